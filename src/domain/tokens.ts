/**
 * What a token may be used for, on top of what its owner may do: `read` (GET routes), `write`
 * (routes that change state) and `check` (the decision point). A token never exceeds its owner.
 */
export const TOKEN_SCOPES = ['read', 'write', 'check'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export const DEFAULT_TOKEN_TTL_MS = 90 * 24 * 3_600_000;
export const MAX_TOKEN_TTL_MS = 365 * 24 * 3_600_000;

/**
 * Who may hold a token for `subject`: the identity itself, or the human owner of a service account
 * (automation's tokens are managed by the person accountable for it). Administrators are checked
 * separately by permission.
 */
export const managesTokensOf = (subject: { id: string; kind: string; ownerId: string | null }, actorId: string): boolean =>
  subject.id === actorId || (subject.kind === 'service_account' && subject.ownerId === actorId);
