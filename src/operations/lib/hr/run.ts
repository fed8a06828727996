/** What one run of HR events (an API batch, an import, a confirmed batch, due events) carries and reports. */
import type { AccessProfile, HrSettings } from '../../../domain/hr.js';
import type { SodRule } from '../../../domain/separation-of-duties.js';
import type { Work } from '../../../work/context.js';
import type { CatalogueEntry } from './birthright.js';
import type { HrEventData } from './match.js';

export interface HrSummary {
  received: number; replayed: number; applied: number; scheduled: number; superseded: number; refused: number;
  hired: number; rehired: number; changed: number; movers: number; leavers: number;
  birthrightGranted: number; birthrightRevoked: number; conflicts: number; reviewsOpened: number; late: number;
}

/** One line of "what changed" per event, for the dry run and the import report. */
export interface HrChange { event: string; person: string; type: string; outcome: string; effects: string[] }

export interface HrRunState {
  settings: HrSettings;
  profiles: AccessProfile[];
  reviewDueMs: number;
  catalogue: Map<string, CatalogueEntry>;
  separationOfDuties: readonly SodRule[];
  summary: HrSummary;
  changes: HrChange[];
}

export const emptySummary = (): HrSummary => ({
  received: 0, replayed: 0, applied: 0, scheduled: 0, superseded: 0, refused: 0, hired: 0, rehired: 0, changed: 0, movers: 0,
  leavers: 0, birthrightGranted: 0, birthrightRevoked: 0, conflicts: 0, reviewsOpened: 0, late: 0,
});

/** The report keeps the first changes only: an import of 100,000 people says what it did in counts. */
export const CHANGE_LINES = 1000;
export const noteChange = (run: HrRunState, change: HrChange): void => {
  if (run.changes.length < CHANGE_LINES) run.changes.push(change);
};

/** An event applied to a person: counted, noted in the report, and its audit event saying what it did. */
export const noteApplied = (work: Work, run: HrRunState, event: HrEventData, person: { id: string; handle: string }, effects: string[]): void => {
  noteChange(run, { event: `${event.source}/${event.eventId}`, person: person.handle, type: event.type, outcome: 'applied', effects });
  run.summary.applied += 1;
  work.record({ action: 'hr.event_applied', subject: { type: 'identity', id: person.id }, identityId: person.id,
    after: { source: event.source, eventId: event.eventId, type: event.type, effectiveAt: event.effectiveAt }, data: { effects } });
};

/**
 * A copy of the run's report for one transaction to write into. A transaction may run its function
 * more than once (inTransaction retries on a deadlock), so it counts into a draft that the caller
 * adopts (`adoptDraft`) only once the transaction committed.
 */
export const draftOf = (run: HrRunState): HrRunState => ({ ...run, summary: { ...run.summary }, changes: [...run.changes] });

export const adoptDraft = (run: HrRunState, draft: HrRunState): void => {
  run.summary = draft.summary;
  run.changes = draft.changes;
};
