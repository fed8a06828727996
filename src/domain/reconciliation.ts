/**
 * Reconciliation: what really exists in a target (the connector's listAccess) compared with what
 * Tenure's grants say should. Pure and linear: maps keyed by account and entitlement, so 100,000
 * accounts against 100,000 grants is a few hash lookups each (see `npm run bench`).
 */
import type { FindingKind } from './findings.js';
import type { IdentityStatus } from './model.js';
import { looksShared } from './provisioning.js';

export interface ObservedAccess { account: string; identityHandle: string | null; entitlement: string }

export interface KnownIdentity { id: string; handle: string; status: IdentityStatus }

export interface ExpectedGrant {
  grantId: string; identityId: string; handle: string; targetName: string;
  /** Only a grant the target confirmed (`provisioned`) is expected there; a pending one may not have arrived yet. */
  provisioningState: string;
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
}

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
    const grant = entry.identityHandle === null ? undefined : live.get(pair(entry.identityHandle, entry.entitlement));
    if (grant && who && who.status === 'active') { seen.add(grant.grantId); continue; }
    if (grant) seen.add(grant.grantId);
    drift.push(describeAccess(input, entry, who));
  }
  for (const grant of input.expected) {
    if (seen.has(grant.grantId) || grant.provisioningState !== 'provisioned') continue;
    drift.push({ kind: 'grant_without_access', key: `grant_without_access:${input.systemId}:${grant.grantId}`, account: grant.handle,
      identityId: grant.identityId, handle: grant.handle, entitlement: grant.targetName, grantId: grant.grantId, removable: false,
      summary: `${grant.handle} should hold ${grant.targetName} on ${input.systemKey} but the target does not show it`,
      evidence: { grantId: grant.grantId, entitlement: grant.targetName } });
  }
  return drift;
};
