/**
 * The brake against a broken HR feed: before anything is applied, count the active people the
 * events would suspend (leaves, and end dates already passed) against everyone active. A batch past
 * the share is held whole, with a finding for security, and applies only when a person confirms it.
 */
import { sql } from 'drizzle-orm';
import { tripsSuspensionBrake, type HrSettings } from '../../../domain/hr.js';
import { newId } from '../../../domain/ids.js';
import { countOf } from '../../../domain/plural.js';
import { rawRows } from '../../../store/database.js';
import { hrBatches, hrEvents } from '../../../store/schema-hr.js';
import type { Work } from '../../../work/context.js';
import { openFinding } from '../provisioning/findings.js';
import type { HrEventData } from './match.js';

export interface BrakeCount { wouldSuspend: number; population: number; trips: boolean }

const suspends = (e: HrEventData, now: Date): boolean =>
  e.type === 'leave' || (e.attributes.end_date !== undefined && new Date(e.attributes.end_date).getTime() <= now.getTime());

export const countSuspensions = async (work: Work, events: readonly HrEventData[], brake: HrSettings['brake']): Promise<BrakeCount> => {
  const leaving = events.filter((e) => suspends(e, work.now)).map((e) => ({ source: e.source, employee_id: e.employeeId, email: e.attributes.email ?? null }));
  const [population] = await rawRows<{ n: number | string }>(work.tx,
    sql`SELECT count(*) AS n FROM identities WHERE status = 'active' AND kind <> 'service_account'`);
  const total = Number(population?.n ?? 0);
  if (leaving.length === 0) return { wouldSuspend: 0, population: total, trips: false };
  const [counted] = await rawRows<{ n: number | string }>(work.tx, sql`
    WITH e AS (SELECT * FROM json_to_recordset(${JSON.stringify(leaving)}::json) AS e(source text, employee_id text, email text)),
    matched AS (
      SELECT r.identity_id AS id FROM hr_records r JOIN e ON r.source = e.source AND r.employee_id = e.employee_id
      UNION SELECT i.id FROM identities i JOIN e ON i.employee_id = e.employee_id
      UNION SELECT i.id FROM identities i JOIN e ON e.email IS NOT NULL AND lower(i.email) = lower(e.email))
    SELECT count(*) AS n FROM identities i JOIN matched m ON m.id = i.id WHERE i.status = 'active' AND i.kind <> 'service_account'`);
  const wouldSuspend = Number(counted?.n ?? 0);
  return { wouldSuspend, population: total, trips: tripsSuspensionBrake(wouldSuspend, total, brake) };
};

/** Keeps the whole batch, unapplied, for security to confirm or discard; says why in a finding. */
export const holdBatch = async (
  work: Work, events: readonly HrEventData[], count: BrakeCount, brake: HrSettings['brake'], channel: string,
): Promise<string> => {
  const batchId = newId();
  await work.tx.insert(hrBatches).values({ id: batchId, status: 'held', channel, events: events.length, wouldSuspend: count.wouldSuspend,
    population: count.population, createdBy: work.actor.id ?? null, createdAt: work.now });
  for (let i = 0; i < events.length; i += 1000) {
    await work.tx.insert(hrEvents).values(events.slice(i, i + 1000).map((e) => ({
      id: newId(), source: e.source, eventId: e.eventId, employeeId: e.employeeId, type: e.type, effectiveAt: e.effectiveAt,
      attributes: e.attributes, digest: e.digest, status: 'held' as const, batchId, receivedAt: work.now,
    })));
  }
  const share = count.population === 0 ? 1 : count.wouldSuspend / count.population;
  await openFinding(work, { kind: 'hr_feed_held', key: `hr_feed_held:${batchId}`,
    summary: `an HR batch of ${countOf(events.length, 'event')} would suspend ${count.wouldSuspend} of ${count.population} active people ` +
      `(${(share * 100).toFixed(1)}%, brake at ${(brake.share * 100).toFixed(1)}%): held until security confirms or discards it`,
    evidence: { batchId, events: events.length, wouldSuspend: count.wouldSuspend, population: count.population, brake } });
  work.record({ action: 'hr.batch_held', subject: { type: 'hr_batch', id: batchId },
    after: { events: events.length, wouldSuspend: count.wouldSuspend, population: count.population, share: brake.share } });
  return batchId;
};
