/**
 * One reconciliation of one system: read the target, compare, record findings (opening new drift,
 * refreshing drift seen again, closing drift that is gone), and in revoke mode remove the access
 * that has no grant behind it, unless that trips the mass-revocation brake.
 */
import { sql } from 'drizzle-orm';
import type { AccessEntry, AccountState, Connector } from '../../../connectors/contract.js';
import { connectorFor } from '../../../connectors/registry.js';
import { TenureError } from '../../../domain/errors.js';
import { DEFAULT_FINDING_DUE_MS, DRIFT_KINDS, FINDING_KINDS } from '../../../domain/findings.js';
import { newId } from '../../../domain/ids.js';
import { brakeTrips, compileSharedPatterns, isReconcilable, type ProvisioningSettings, type SystemProvisioning } from '../../../domain/provisioning.js';
import {
  reconcile, type Drift, type EndedGrant, type ExpectedGrant, type KnownIdentity, type ReconcileInput,
} from '../../../domain/reconciliation.js';
import { rawRows, type Executor } from '../../../store/database.js';
import { reconciliationRuns } from '../../../store/schema-provisioning.js';
import { inTransaction, type Context } from '../../../work/context.js';
import { recordConnectorSafety } from './connector-safety.js';
import { driftOwner, openFinding, resolveFindingByKey, resolveUnseen } from './findings.js';
import { provisioningSettings } from './settings.js';

export interface ReconcileOptions {
  /** Remove removable drift even if the system's policy says report. */
  revoke?: boolean;
  /** Security has confirmed a removal above the brake's share. */
  confirmMassRevoke?: boolean;
  /**
   * The connector to read, instead of the one the policy describes. For the benchmark, which
   * measures Tenure's side of a 100,000-account reconciliation apart from the target's listing.
   */
  connector?: Connector;
}

export interface ReconcileResult {
  system: string; accounts: number; liveGrants: number; drift: Record<string, number>; revoked: number;
  /** Drift removals the target refused; the drift stays reported. */
  removalsFailed: number;
  brakeHeld: boolean;
  findingsOpened: number; findingsClosed: number;
  /** What the connector's own login can do beyond its job (`connector_unsafe`); empty when nothing. */
  connectorUnsafe: string[];
}

interface SystemRow { id: string; key: string }

/** A shared account's check-out gives the person no membership (it is used through the proxy), so none is expected of it. */
const loadExpectations = async (exec: Executor, system: SystemRow, targets: Record<string, string>, entries: AccessEntry[], accounts: AccountState[]) => {
  const expectedRows = await rawRows<{ grant_id: string; identity_id: string; handle: string; key: string; provisioning_state: string; ends_at: Date | string | null }>(exec, sql`
    SELECT g.id AS grant_id, g.identity_id, i.handle, e.key, g.provisioning_state, g.ends_at
      FROM grants g JOIN entitlements e ON e.id = g.entitlement_id JOIN identities i ON i.id = g.identity_id
     WHERE e.system_id = ${system.id} AND g.status = 'active' AND NOT e.shared_account`);
  const expected: ExpectedGrant[] = expectedRows.map((r) => ({ grantId: r.grant_id, identityId: r.identity_id, handle: r.handle,
    targetName: targets[r.key] ?? r.key, provisioningState: r.provisioning_state, endsAt: r.ends_at === null ? null : new Date(r.ends_at) }));
  const handles = [...new Set([...entries.map((e) => e.identityHandle), ...accounts.map((a) => a.identityHandle)].filter((h): h is string => h !== null))];
  const people = handles.length === 0 ? [] : await rawRows<KnownIdentity>(exec,
    sql`SELECT id, handle, status FROM identities WHERE handle IN (SELECT jsonb_array_elements_text(${JSON.stringify(handles)}::jsonb))`);
  const ended = await rawRows<{ identity_id: string; key: string; grant_id: string; ended_at: Date; confirmed: Date | null; state: string }>(exec, sql`
    SELECT DISTINCT ON (g.identity_id, e.key) g.identity_id, e.key, g.id AS grant_id, g.ended_at,
           g.provisioning_confirmed_at AS confirmed, g.provisioning_state AS state
      FROM grants g JOIN entitlements e ON e.id = g.entitlement_id
     WHERE e.system_id = ${system.id} AND g.status IN ('expired','revoked') AND NOT e.shared_account
     ORDER BY g.identity_id, e.key, g.ended_at DESC`);
  const endedMap = new Map<string, EndedGrant>(ended.map((r) => [`${r.identity_id}\u0000${targets[r.key] ?? r.key}`, {
    grantId: r.grant_id, endedAt: new Date(r.ended_at),
    deprovisionedAt: r.state === 'deprovisioned' && r.confirmed ? new Date(r.confirmed) : null,
  }]));
  return { expected, identities: new Map(people.map((p) => [p.handle, p])), ended: endedMap };
};

/** The one change that removes a piece of drift, by its kind; undefined when the connector cannot make it. */
const removalOf = (connector: Connector, d: Drift, stillHeld: Set<string>): (() => Promise<{ changed: boolean }>) | undefined => {
  if (d.kind === 'unmanaged_member') return connector.revokeMembership && (() => connector.revokeMembership!(d.account, d.entitlement!));
  if (d.kind === 'login_without_grant') return connector.restrictLogin && (() => connector.restrictLogin!(d.account, null));
  if (d.kind === 'login_outlives_grants') return connector.restrictLogin && (() => connector.restrictLogin!(d.account, d.loginEndsAt ?? null));
  return () => connector.deprovision({
    grantId: d.grantId ?? `drift:${d.key}`, identityHandle: d.handle!, entitlementKey: d.entitlement!, targetName: d.entitlement!,
    startsAt: new Date(0), endsAt: null, accountEndsAt: null, lastOnSystem: !stillHeld.has(d.handle!),
  });
};

/**
 * Removes each piece of removable drift from the target; the finding stays open until a later run
 * no longer sees it. One removal failing does not stop the others: it is counted and the drift
 * stays reported.
 */
const removeDrift = async (ctx: Context, connector: Connector, system: SystemRow, removable: Drift[], expected: ExpectedGrant[]) => {
  const stillHeld = new Set(expected.map((g) => g.handle));
  let revoked = 0;
  let failed = 0;
  for (const d of removable) {
    const remove = removalOf(connector, d, stillHeld);
    let changed: boolean;
    try {
      if (!remove) throw new Error(`the ${connector.kind} connector cannot remove ${d.kind}`);
      ({ changed } = await remove());
    } catch {
      failed += 1;
      continue;
    }
    revoked += 1;
    await inTransaction(ctx, async (work) => {
      work.record({ action: 'access.drift_removed', subject: { type: 'system', id: system.id }, systemId: system.id, identityId: d.identityId,
        reason: d.summary, data: { account: d.account, entitlement: d.entitlement, kind: d.kind, changed } });
    });
  }
  return { revoked, failed };
};

export const runReconciliation = async (ctx: Context, systemKey: string, options: ReconcileOptions = {}): Promise<ReconcileResult> => {
  const exec = ctx.store.db;
  const [system] = await rawRows<SystemRow>(exec, sql`SELECT id, key FROM systems WHERE key = ${systemKey} AND NOT retired`);
  if (!system) throw new TenureError('system.not_found', `no system '${systemKey}'`, { field: 'system' });
  const settings = await provisioningSettings(exec);
  const spec = settings.systems[systemKey];
  const connector = isReconcilable(spec) ? options.connector ?? connectorFor(spec) : null;
  if (!spec || !connector) {
    throw new TenureError('reconcile.no_connector', `${systemKey} has no connector that can list its access (manual and SSH CA systems have none)`,
      { field: 'system' });
  }
  try {
    return await reconcileThrough(ctx, system, spec, settings, connector, options);
  } finally {
    if (!options.connector) await connector.close?.();
  }
};

/** The reconciliation itself, once the system and its connector are known. */
const reconcileThrough = async (ctx: Context, system: SystemRow, spec: SystemProvisioning, settings: ProvisioningSettings, connector: Connector,
  options: ReconcileOptions): Promise<ReconcileResult> => {
  const exec = ctx.store.db;
  const systemKey = system.key;
  const startedAt = ctx.clock.now();
  let entries: AccessEntry[];
  let accounts: AccountState[];
  let sessions: ReconcileInput['sessions'];
  try {
    entries = await connector.listAccess();
    accounts = (await connector.listAccounts?.()) ?? [];
    const proxied = spec.connector.type === 'postgres-roles' ? spec.connector : undefined;
    if (proxied?.proxy?.addresses && connector.listSessions) {
      sessions = { observed: await connector.listSessions(), proxyAddresses: proxied.proxy.addresses, prefix: proxied.role_prefix };
    }
  } catch (error) {
    throw new TenureError('reconcile.target_unreachable', `${systemKey}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const check = await connector.check();
  await recordConnectorSafety(ctx, system, check, settings.findingDueMs);
  const connectorUnsafe = check.unsafe ?? [];
  const { expected, identities, ended } = await loadExpectations(exec, system, spec.targets, entries, accounts);
  const drift = reconcile({ systemId: system.id, systemKey, observed: entries, expected, identities, ended, accounts, sessions, now: ctx.clock.now(),
    sharedPatterns: compileSharedPatterns(settings.sharedAccountPatterns) });
  const removable = drift.filter((d) => d.removable);
  const revoking = (options.revoke ?? spec.reconcile.mode === 'revoke') && removable.length > 0;
  const brakeHeld = revoking && !options.confirmMassRevoke && brakeTrips(removable.length, entries.length, settings.brake);
  // Counted inside and returned: a retried transaction runs its function again from zero.
  const counts = await inTransaction(ctx, async (work) => {
    const tally = { opened: 0, closed: 0 };
    const ownerId = await driftOwner(work, system.id);
    const due = settings.findingDueMs ?? DEFAULT_FINDING_DUE_MS;
    for (const d of drift) {
      const { opened } = await openFinding(work, { kind: d.kind, key: d.key, summary: d.summary, evidence: d.evidence,
        systemId: system.id, identityId: d.identityId, grantId: d.grantId, ownerId,
        dueAt: new Date(work.now.getTime() + due[FINDING_KINDS[d.kind]]) });
      if (opened) tally.opened += 1;
    }
    tally.closed = await resolveUnseen(work, system.id, DRIFT_KINDS, 'no longer seen by reconciliation');
    if (revoking && !brakeHeld) await resolveFindingByKey(work, `mass_revocation_held:reconcile:${system.id}`, 'removal confirmed');
    if (brakeHeld) {
      await openFinding(work, { kind: 'mass_revocation_held', key: `mass_revocation_held:reconcile:${system.id}`, systemId: system.id,
        summary: `reconciliation of ${systemKey} would remove ${removable.length} of ${entries.length} accesses: held until security confirms`,
        evidence: { removable: removable.length, accounts: entries.length, share: settings.brake.share, minimum: settings.brake.minimum } });
    }
    return tally;
  });
  const { revoked, failed: removalsFailed } = revoking && !brakeHeld
    ? await removeDrift(ctx, connector, system, removable, expected) : { revoked: 0, failed: 0 };
  const byKind: Record<string, number> = {};
  for (const d of drift) byKind[d.kind] = (byKind[d.kind] ?? 0) + 1;
  await inTransaction(ctx, async (work) => {
    await work.tx.insert(reconciliationRuns).values({ id: newId(), systemId: system.id, startedAt, finishedAt: work.now,
      actorId: work.actor.id ?? null, accounts: entries.length, liveGrants: expected.length, drift: byKind, revoked, brakeHeld });
    work.record({ action: 'reconciliation.completed', subject: { type: 'system', id: system.id }, systemId: system.id,
      data: { accounts: entries.length, liveGrants: expected.length, drift: byKind, revoked, removalsFailed, brakeHeld, connectorUnsafe } });
  });
  return { system: systemKey, accounts: entries.length, liveGrants: expected.length, drift: byKind, revoked, removalsFailed, brakeHeld,
    findingsOpened: counts.opened, findingsClosed: counts.closed, connectorUnsafe };
};
