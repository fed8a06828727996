/**
 * Credentials of non-human identities: what kinds exist, how old they may get, how often they must
 * be rotated, and which conditions are findings. Registered by fingerprint only: Tenure never holds
 * the secret, and a value that looks like a secret rather than a fingerprint is refused. Pure.
 */
import type { FindingKind } from './findings.js';
import { formatDuration } from './durations.js';

export const CREDENTIAL_KINDS = ['api_key', 'ssh_key', 'password', 'certificate', 'oauth_client', 'token'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];
export const CREDENTIAL_STATUSES = ['active', 'retired'] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];

export interface CredentialRule { maxAgeMs: number; rotationMs: number }
export interface CredentialSettings { rules: Record<CredentialKind, CredentialRule>; unusedAfterMs: number }

const DAY = 24 * 3_600_000;
export const DEFAULT_CREDENTIAL_SETTINGS: CredentialSettings = {
  rules: {
    api_key: { maxAgeMs: 90 * DAY, rotationMs: 90 * DAY },
    ssh_key: { maxAgeMs: 365 * DAY, rotationMs: 365 * DAY },
    password: { maxAgeMs: 90 * DAY, rotationMs: 90 * DAY },
    certificate: { maxAgeMs: 397 * DAY, rotationMs: 365 * DAY },
    oauth_client: { maxAgeMs: 180 * DAY, rotationMs: 180 * DAY },
    token: { maxAgeMs: 90 * DAY, rotationMs: 90 * DAY },
  },
  unusedAfterMs: 30 * DAY,
};

/** `SHA256:<base64>` as ssh-keygen prints it, or `sha256:<64 hex digits>` of any secret. */
export const FINGERPRINT = /^(SHA256:[A-Za-z0-9+/]{43}=?|sha256:[0-9a-f]{64})$/;

export interface CredentialState {
  id: string; name: string; kind: CredentialKind; createdAt: Date; lastRotatedAt: Date; expiresAt: Date | null; lastUsedAt: Date | null;
  identityHandle: string;
  /** The accountable owner of the identity (a service account's owner), and whether they are still active. */
  ownerHandle: string | null; ownerActive: boolean;
  /** Set when the credential must go (its service account's vendor contract ended); absent for most. */
  retirementDueAt?: Date | null;
}

export interface CredentialCondition { kind: FindingKind; key: string; summary: string; evidence: Record<string, unknown> }

/** The calendar day (UTC) a summary names: the exact instant stays in the finding's evidence. */
const day = (at: Date) => at.toISOString().slice(0, 10);

/** Every finding condition a credential is in now: rotation overdue, no expiry, owner departed, unused, retirement due. */
export const credentialConditions = (c: CredentialState, settings: CredentialSettings, now: Date): CredentialCondition[] => {
  const rule = settings.rules[c.kind];
  const label = `${c.kind} '${c.name}' of ${c.identityHandle}`;
  const evidence = { credentialId: c.id, kind: c.kind, lastRotatedAt: c.lastRotatedAt, expiresAt: c.expiresAt, lastUsedAt: c.lastUsedAt };
  const found: CredentialCondition[] = [];
  const ago = (then: Date) => formatDuration(now.getTime() - then.getTime(), 'words');
  const add = (kind: FindingKind, summary: string) => found.push({ kind, key: `${kind}:${c.id}`, summary, evidence });
  if (now.getTime() - c.lastRotatedAt.getTime() > rule.rotationMs) {
    add('credential_rotation_overdue', `${label} was last rotated on ${day(c.lastRotatedAt)}, ${ago(c.lastRotatedAt)} ago; it is to be rotated every ${formatDuration(rule.rotationMs, 'words')}`);
  }
  if (c.expiresAt === null) add('credential_no_expiry', `${label} never expires`);
  if (!c.ownerActive) add('credential_owner_departed', `${label} is owned by ${c.ownerHandle ?? 'nobody'}, who is no longer active`);
  const lastActivity = c.lastUsedAt ?? c.createdAt;
  if (now.getTime() - lastActivity.getTime() > settings.unusedAfterMs) {
    add('credential_unused', `${label} has not been used since ${day(lastActivity)}, ${ago(lastActivity)} ago`);
  }
  if (c.retirementDueAt) {
    add('credential_retirement_due', `${label} is to be retired since ${day(c.retirementDueAt)}: revoke the secret where it works, then retire it`);
  }
  return found;
};

export const CREDENTIAL_FINDING_KINDS: readonly FindingKind[] = [
  'credential_rotation_overdue', 'credential_no_expiry', 'credential_owner_departed', 'credential_unused', 'credential_retirement_due',
];
