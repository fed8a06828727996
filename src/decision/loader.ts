/**
 * Reads the decision index from the database: in bulk at start (a few large keyset-paged queries,
 * 1M grants in batches), and per identity when the change feed reports changes. Each read runs in
 * one REPEATABLE READ, read-only transaction, so the rows and the audit position they are current
 * to come from one snapshot.
 */
import { sql } from 'drizzle-orm';
import { rawRows, type Executor, type Store } from '../store/database.js';
import {
  DecisionIndex, type CredentialRecord, type EngagementRecord, type EntitlementRecord, type GrantRecord, type IdentityRecord,
} from './index.js';
import type { DecisionSettings } from '../domain/decision-settings.js';

export interface LoadOptions {
  /** Grants that ended after this instant are kept, so a recent revocation answers `grant_ended`. */
  endedSince: Date;
  /** Rows per page in the bulk load. */
  batchSize?: number;
}

const ms = (column: string) => sql.raw(`(extract(epoch from ${column}) * 1000)::float8`);

/** Events whose identity_id names the identity they change; others (policy.applied) change the catalogue. */
const CATALOGUE_ACTIONS = new Set(['policy.applied', 'setup.initialised']);
/** Changes after which a remembered caller (token, owner status, roles) must be looked up again. */
const CREDENTIAL_ACTIONS = new Set(['token.revoked', 'session.ended', 'identity.status_changed', 'role.granted', 'role.removed', 'policy.applied']);

const readOnly = { isolationLevel: 'repeatable read', accessMode: 'read only' } as const;

const auditPosition = async (exec: Executor): Promise<number> => {
  const [row] = await rawRows<{ seq: string | number }>(exec, sql`SELECT coalesce(max(seq), 0) AS seq FROM audit_events`);
  return Number(row?.seq ?? 0);
};

const readCatalogue = async (exec: Executor): Promise<{ rows: EntitlementRecord[]; settings: DecisionSettings | undefined }> => {
  const rows = await rawRows<EntitlementRecord>(exec, sql`
    SELECT e.id, e.key, s.key AS system_key, e.tier, (e.retired OR s.retired) AS retired
    FROM entitlements e JOIN systems s ON s.id = e.system_id`);
  const [state] = await rawRows<{ decision: DecisionSettings | null }>(exec,
    sql`SELECT document -> 'decision' AS decision FROM policy_state WHERE id = 1`);
  return { rows, settings: state?.decision ?? undefined };
};

const IDENTITY_COLUMNS = sql`id, handle, kind, status, sponsor_id`;
const ENGAGEMENT_COLUMNS = sql`id, identity_id, status, ${ms('starts_at')} AS starts_at, ${ms('ends_at')} AS ends_at`;
const GRANT_COLUMNS = sql`id, identity_id, entitlement_id, engagement_id, status, ${ms('starts_at')} AS starts_at, ${ms('ends_at')} AS ends_at`;
const CREDENTIAL_COLUMNS = sql`id, identity_id, fingerprint`;

const liveOrRecent = (endedSince: Date) =>
  sql`(status IN ('scheduled', 'active') OR ended_at > ${endedSince.toISOString()}::timestamptz)`;

/** Keyset pages over a table by id (uuid), so a million rows never sit in one result. */
const pages = async <T extends { id: string }>(
  exec: Executor, batchSize: number, query: (after: string) => ReturnType<typeof sql>, each: (rows: T[]) => void,
): Promise<void> => {
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await rawRows<T>(exec, sql`${query(after)} ORDER BY id LIMIT ${batchSize}`);
    if (rows.length > 0) each(rows);
    if (rows.length < batchSize) return;
    after = rows[rows.length - 1]!.id;
  }
};

/**
 * Builds a complete index from `db` (the primary, a streaming replica of it, or an open transaction);
 * returns it with the audit position it is current to: the highest seq in the same snapshot.
 */
export const loadIndex = async (db: Executor, options: LoadOptions): Promise<{ index: DecisionIndex; seq: number }> => {
  const batch = options.batchSize ?? 50_000;
  return db.transaction(async (tx) => {
    const index = new DecisionIndex();
    const seq = await auditPosition(tx);
    const catalogue = await readCatalogue(tx);
    index.replaceCatalogue(catalogue.rows, catalogue.settings);
    await pages<IdentityRecord>(tx, batch, (after) => sql`SELECT ${IDENTITY_COLUMNS} FROM identities WHERE id > ${after}::uuid`,
      (rows) => index.putIdentities(rows));
    await pages<EngagementRecord>(tx, batch, (after) => sql`SELECT ${ENGAGEMENT_COLUMNS} FROM engagements WHERE id > ${after}::uuid`,
      (rows) => index.putEngagements(rows));
    await pages<GrantRecord>(tx, batch,
      (after) => sql`SELECT ${GRANT_COLUMNS} FROM grants WHERE id > ${after}::uuid AND ${liveOrRecent(options.endedSince)}`,
      (rows) => index.putGrants(rows));
    await pages<CredentialRecord>(tx, batch,
      (after) => sql`SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE id > ${after}::uuid AND status = 'active'`,
      (rows) => index.putCredentials(rows));
    return { index, seq };
  }, readOnly);
};

export interface ChangeSummary {
  seq: number; events: number; identities: number; catalogue: boolean; credentials: boolean;
  /**
   * Patches the index with what was read. Called by the caller once the snapshot's transaction is
   * over, in the same synchronous step as it records `seq`, so no answer sees the patch before the position.
   */
  apply: () => void;
}

const NOTHING = () => undefined;

const EVENT_PAGE = 10_000;

/**
 * Reads every change committed after `afterSeq`: the audit events past it (in commit order:
 * seq is assigned under the audit head lock), then the identities they name (with their grants,
 * engagements and active credentials) and, after a policy apply, the catalogue. The index is
 * patched (by `apply`) only once everything is read.
 */
export const loadChanges = async (
  store: Store, index: DecisionIndex, afterSeq: number, options: LoadOptions,
): Promise<ChangeSummary> => store.db.transaction(async (tx) => {
  const ids = new Set<string>();
  let catalogue = false;
  let credentials = false;
  let seq = afterSeq;
  let events = 0;
  for (;;) {
    const rows = await rawRows<{ seq: string | number; action: string; identity_id: string | null }>(tx,
      sql`SELECT seq, action, identity_id FROM audit_events WHERE seq > ${seq} ORDER BY seq LIMIT ${EVENT_PAGE}`);
    for (const row of rows) {
      if (row.identity_id) ids.add(row.identity_id);
      if (CATALOGUE_ACTIONS.has(row.action)) catalogue = true;
      if (CREDENTIAL_ACTIONS.has(row.action)) credentials = true;
    }
    events += rows.length;
    if (rows.length > 0) seq = Number(rows[rows.length - 1]!.seq);
    if (rows.length < EVENT_PAGE) break;
  }
  if (events === 0) return { seq, events, identities: 0, catalogue, credentials, apply: NOTHING };
  const changedCatalogue = catalogue ? await readCatalogue(tx) : undefined;
  const list = JSON.stringify([...ids]);
  const inList = sql`(SELECT value::uuid FROM jsonb_array_elements_text(${list}::jsonb))`;
  const identities = ids.size === 0 ? [] : await rawRows<IdentityRecord>(tx,
    sql`SELECT ${IDENTITY_COLUMNS} FROM identities WHERE id IN ${inList}`);
  const engagements = ids.size === 0 ? [] : await rawRows<EngagementRecord>(tx,
    sql`SELECT ${ENGAGEMENT_COLUMNS} FROM engagements WHERE identity_id IN ${inList}`);
  const grants = ids.size === 0 ? [] : await rawRows<GrantRecord>(tx,
    sql`SELECT ${GRANT_COLUMNS} FROM grants WHERE identity_id IN ${inList} AND ${liveOrRecent(options.endedSince)}`);
  const activeCredentials = ids.size === 0 ? [] : await rawRows<CredentialRecord>(tx,
    sql`SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE identity_id IN ${inList} AND status = 'active'`);
  const apply = () => {
    if (changedCatalogue) index.replaceCatalogue(changedCatalogue.rows, changedCatalogue.settings);
    index.replaceIdentities(identities, engagements, grants, activeCredentials);
  };
  return { seq, events, identities: identities.length, catalogue, credentials, apply };
}, readOnly);
