/**
 * Reconciliation: what really exists in a target (the connector's listAccess) compared with what
 * Tenure's grants say should. Pure and linear: maps keyed by account and entitlement, so 100,000
 * accounts against 100,000 grants is a few hash lookups each (see `npm run bench`).
 */
import type { FindingKind } from './findings.js';
import type { IdentityStatus } from './model.js';
import { looksShared } from './provisioning.js';

export interface ObservedAccess {
  account: string; identityHandle: string | null; entitlement: string;
  /** The role or group the access comes through, when it is nested; absent: a direct membership. */
  via?: string | undefined;
}

/** An account named by the connector's rule, and whether it can sign in now (see Connector.listAccounts). */
export interface ObservedAccount {
  account: string; identityHandle: string; canLogin: boolean;
  /** null: no end; absent (undefined): the target has no sign-in end, only on or off, so nothing can outlive a grant. */
  validUntil?: Date | null | undefined;
}

export interface KnownIdentity { id: string; handle: string; status: IdentityStatus }

export interface ExpectedGrant {
  grantId: string; identityId: string; handle: string; targetName: string;
  /** Only a grant the target confirmed (`provisioned`) is expected there; a pending one may not have arrived yet. */
  provisioningState: string;
  /** null: no end (birthright). */
  endsAt: Date | null;
}

/** The latest ended grant of a person for a target entitlement: evidence that access came back after Tenure removed it. */
export interface EndedGrant { grantId: string; endedAt: Date; deprovisionedAt: Date | null }

export interface Drift {
  kind: FindingKind;
  /** Stable across runs, so the same drift refreshes its finding and a vanished one closes it. */
  key: string;
  account: string;
  identityId: string | null;
  handle: string | null;
  entitlement: string | null;
  grantId: string | null;
  summary: string;
  evidence: Record<string, unknown>;
  /** Whether the drift is access that revoke mode may remove (never an orphan or shared account: nobody is known to own it). */
  removable: boolean;
  /** login_outlives_grants: the end the account's sign-in is brought back to. */
  loginEndsAt?: Date;
}

export interface ReconcileInput {
  systemId: string;
  systemKey: string;
  observed: ObservedAccess[];
  expected: ExpectedGrant[];
  identities: Map<string, KnownIdentity>;
  /** `${identityId}\u0000${targetName}` → the latest ended grant. */
  ended: Map<string, EndedGrant>;
  sharedPatterns: RegExp[];
  /** The accounts the connector manages with their sign-in state; absent when the connector cannot list them. */
  accounts?: ObservedAccount[] | undefined;
  /** Open sessions of managed accounts and the proxies' addresses; absent when the system is not proxied (or says no addresses). */
  sessions?: { observed: { account: string; clientAddress: string; startedAt: Date }[]; proxyAddresses: readonly string[]; prefix: string } | undefined;
  now: Date;
}

/** An account may sign in this long past its last grant's end before it is drift: clocks and VALID UNTIL rounding differ. */
const LOGIN_END_SLACK_MS = 60_000;

const pair = (a: string, b: string) => `${a}\u0000${b}`;

const describeAccess = (input: ReconcileInput, entry: ObservedAccess, who: KnownIdentity | undefined): Drift => {
  const base = { account: entry.account, entitlement: entry.entitlement, handle: entry.identityHandle, identityId: who?.id ?? null };
  const where = `${entry.account} holds ${entry.entitlement} on ${input.systemKey}`;
  if (!who) {
    return { ...base, kind: 'orphan_account', key: `orphan_account:${input.systemId}:${entry.account}`, grantId: null, removable: false,
      summary: `${where} and matches no identity`, evidence: { account: entry.account, entitlement: entry.entitlement } };
  }
  if (who.status === 'suspended' || who.status === 'terminated') {
    return { ...base, kind: 'access_of_inactive_identity', key: `access_of_inactive_identity:${input.systemId}:${entry.account}:${entry.entitlement}`,
      grantId: null, removable: true, summary: `${where}, but ${who.handle} is ${who.status}`,
      evidence: { account: entry.account, entitlement: entry.entitlement, identityStatus: who.status } };
  }
  const ended = input.ended.get(pair(who.id, entry.entitlement));
  const readded = ended?.deprovisionedAt != null;
  return { ...base, kind: 'access_without_grant', key: `access_without_grant:${input.systemId}:${entry.account}:${entry.entitlement}`,
    grantId: ended?.grantId ?? null, removable: true,
    summary: readded
      ? `${where} again after Tenure removed it on ${ended.deprovisionedAt!.toISOString()}: something re-added it`
      : `${where} with no live grant`,
    evidence: { account: entry.account, entitlement: entry.entitlement, readdedAfterRemoval: readded,
      lastGrant: ended ? { id: ended.grantId, endedAt: ended.endedAt, deprovisionedAt: ended.deprovisionedAt } : null } };
};

/**
 * Access that does not come from Tenure's own membership: a member outside the naming rule (removable:
 * the membership of a managed role is Tenure's to give), or access through nesting (not removable
 * here: the nested role's own membership is reported and removed on its own).
 */
const describeForeignAccess = (input: ReconcileInput, entry: ObservedAccess, who: KnownIdentity | undefined): Drift => {
  const base = { account: entry.account, entitlement: entry.entitlement, handle: entry.identityHandle, identityId: who?.id ?? null, grantId: null };
  if (entry.via !== undefined) {
    return { ...base, kind: 'nested_access', key: `nested_access:${input.systemId}:${entry.account}:${entry.entitlement}`, removable: false,
      summary: `${entry.account} reaches ${entry.entitlement} on ${input.systemKey} through ${entry.via}, not through a grant`,
      evidence: { account: entry.account, entitlement: entry.entitlement, via: entry.via,
        notRemoved: `the access comes through ${entry.via}; its membership of ${entry.entitlement} is what to remove` } };
  }
  return { ...base, kind: 'unmanaged_member', key: `unmanaged_member:${input.systemId}:${entry.account}:${entry.entitlement}`, removable: true,
    summary: `${entry.account} is a member of ${entry.entitlement} on ${input.systemKey}, which only Tenure grants, and follows no naming rule of Tenure's`,
    evidence: { account: entry.account, entitlement: entry.entitlement } };
};

/**
 * Accounts Tenure manages that can sign in with no live grant behind them, or longer than their grants
 * last. An account of no known identity is an orphan, reported once whether it holds a membership or not.
 */
const loginDrift = (input: ReconcileInput, reported: Set<string>): Drift[] => {
  const latestEnd = new Map<string, Date | null>();
  for (const g of input.expected) {
    const have = latestEnd.get(g.handle);
    latestEnd.set(g.handle, have === null || g.endsAt === null ? null : have === undefined || g.endsAt > have ? g.endsAt : have);
  }
  const drift: Drift[] = [];
  for (const a of input.accounts ?? []) {
    if (!a.canLogin || (a.validUntil != null && a.validUntil <= input.now)) continue;
    const who = input.identities.get(a.identityHandle);
    const base = { account: a.account, handle: a.identityHandle, identityId: who?.id ?? null, entitlement: null, grantId: null };
    const until = a.validUntil === undefined ? undefined : a.validUntil?.toISOString() ?? 'infinity';
    const evidence = { account: a.account, canLogin: true, ...(until === undefined ? {} : { validUntil: until }) };
    if (!who) {
      const key = `orphan_account:${input.systemId}:${a.account}`;
      if (!reported.has(key)) {
        drift.push({ ...base, kind: 'orphan_account', key, removable: false, summary: `${a.account} can sign in to ${input.systemKey} and matches no identity`,
          evidence });
      }
      continue;
    }
    if (!latestEnd.has(a.identityHandle)) {
      drift.push({ ...base, kind: 'login_without_grant', key: `login_without_grant:${input.systemId}:${a.account}`, removable: true,
        summary: `${a.account} can sign in to ${input.systemKey}${until === undefined ? '' : ` (valid until ${until})`} but ${a.identityHandle} holds no live grant there`,
        evidence });
      continue;
    }
    const end = latestEnd.get(a.identityHandle)!;
    if (end === null || a.validUntil === undefined || (a.validUntil !== null && a.validUntil.getTime() <= end.getTime() + LOGIN_END_SLACK_MS)) continue;
    drift.push({ ...base, kind: 'login_outlives_grants', key: `login_outlives_grants:${input.systemId}:${a.account}`, removable: true,
      summary: `${a.account} can sign in to ${input.systemKey} until ${until}, past the end of its last grant (${end.toISOString()})`,
      evidence: { account: a.account, validUntil: until, lastGrantEndsAt: end.toISOString() }, loginEndsAt: end });
  }
  return drift;
};

/** One finding per account and client address that opened a session without the proxy (the proxy's own never count). */
const sessionsOutsideProxy = (input: ReconcileInput): Drift[] => {
  if (!input.sessions) return [];
  const { observed, proxyAddresses, prefix } = input.sessions;
  const found = new Map<string, Drift>();
  for (const s of observed) {
    if (proxyAddresses.includes(s.clientAddress)) continue;
    const key = `session_outside_proxy:${input.systemId}:${s.account}:${s.clientAddress}`;
    if (found.has(key)) continue;
    const handle = s.account.startsWith(prefix) ? s.account.slice(prefix.length) : null;
    found.set(key, { kind: 'session_outside_proxy', key, account: s.account, identityId: (handle && input.identities.get(handle)?.id) ?? null, handle,
      entitlement: null, grantId: null, removable: false,
      summary: `${s.account} has a session on ${input.systemKey} from ${s.clientAddress}, not through Tenure's proxy: nothing recorded it`,
      evidence: { account: s.account, clientAddress: s.clientAddress, startedAt: s.startedAt.toISOString(), proxyAddresses } });
  }
  return [...found.values()];
};

/** Every drift between the target and the grants, each kind at most once per account and entitlement. */
export const reconcile = (input: ReconcileInput): Drift[] => {
  const drift: Drift[] = [];
  const live = new Map(input.expected.map((g) => [pair(g.handle, g.targetName), g]));
  const seen = new Set<string>();
  const sharedReported = new Set<string>();
  for (const entry of input.observed) {
    const who = entry.identityHandle === null ? undefined : input.identities.get(entry.identityHandle);
    if (!sharedReported.has(entry.account) && looksShared(entry.identityHandle ?? entry.account, input.sharedPatterns)) {
      sharedReported.add(entry.account);
      drift.push({ kind: 'shared_account', key: `shared_account:${input.systemId}:${entry.account}`, account: entry.account,
        identityId: who?.id ?? null, handle: entry.identityHandle, entitlement: entry.entitlement, grantId: null, removable: false,
        summary: `${entry.account} on ${input.systemKey} looks shared or generic: nobody is accountable for what it does`,
        evidence: { account: entry.account, entitlement: entry.entitlement } });
    }
    if (entry.identityHandle === null || entry.via !== undefined) { drift.push(describeForeignAccess(input, entry, who)); continue; }
    const grant = live.get(pair(entry.identityHandle, entry.entitlement));
    if (grant && who && who.status === 'active') { seen.add(grant.grantId); continue; }
    if (grant) seen.add(grant.grantId);
    drift.push(describeAccess(input, entry, who));
  }
  drift.push(...loginDrift(input, new Set(drift.map((d) => d.key))), ...sessionsOutsideProxy(input));
  for (const grant of input.expected) {
    if (seen.has(grant.grantId) || grant.provisioningState !== 'provisioned') continue;
    drift.push({ kind: 'grant_without_access', key: `grant_without_access:${input.systemId}:${grant.grantId}`, account: grant.handle,
      identityId: grant.identityId, handle: grant.handle, entitlement: grant.targetName, grantId: grant.grantId, removable: false,
      summary: `${grant.handle} should hold ${grant.targetName} on ${input.systemKey} but the target does not show it`,
      evidence: { grantId: grant.grantId, entitlement: grant.targetName } });
  }
  return drift;
};
