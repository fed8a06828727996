/**
 * A person using a service account, as the decision point saw it (an interactive login or an MFA
 * prompt answered as the service account, or a person presenting its credential): a critical
 * `credential_human_use` finding (OWASP NHI10:2025) routed to the service account's owner, with the
 * evidence of the attempt. The decision point writes it off its hot path (src/decision/credential-use.ts).
 */
import { eq } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { DecisionContext } from '../../../domain/decision-conditions.js';
import { identities, systems } from '../../../store/schema.js';
import { credentials } from '../../../store/schema-credentials.js';
import { inTransaction, type Context, type Work } from '../../../work/context.js';
import { openFinding } from '../provisioning/findings.js';

export interface HumanUse {
  at: Date;
  reason: 'human_use_of_service_account' | 'credential_not_owned';
  serviceAccountId: string;
  /** The identity the check asked about: the service account itself, or the person who presented its credential. */
  askedAboutId: string;
  credentialId: string | null;
  entitlementKey: string | null;
  systemKey: string | null;
  action: string | null;
  context: DecisionContext | undefined;
}

/** One finding per service account and credential (or per service account, for a login with no registered credential). */
export const humanUseKey = (use: HumanUse): string =>
  `credential_human_use:${use.serviceAccountId}:${use.credentialId ?? 'interactive'}`;

const owners = alias(identities, 'owner');
const holders = alias(identities, 'holder');

const credentialOf = async (work: Work, id: string | null) => {
  if (id === null) return undefined;
  const [row] = await work.tx.select({ id: credentials.id, name: credentials.name, kind: credentials.kind, systemId: credentials.systemId,
    holder: holders.handle, system: systems.key }).from(credentials)
    .innerJoin(holders, eq(holders.id, credentials.identityId))
    .leftJoin(systems, eq(systems.id, credentials.systemId))
    .where(eq(credentials.id, id));
  return row;
};

const handleOf = async (work: Work, id: string) =>
  (await work.tx.select({ handle: identities.handle, kind: identities.kind }).from(identities).where(eq(identities.id, id)))[0];

/** Opens the finding, or refreshes the open one with the latest attempt's evidence. */
export const recordHumanUse = (ctx: Context, use: HumanUse) => inTransaction(ctx, async (work) => {
  const [account] = await work.tx.select({ who: identities, owner: owners }).from(identities)
    .leftJoin(owners, eq(owners.id, identities.ownerId)).where(eq(identities.id, use.serviceAccountId));
  if (!account) return undefined;
  const asked = await handleOf(work, use.askedAboutId);
  const credential = await credentialOf(work, use.credentialId);
  const [system] = use.systemKey === null ? [] : await work.tx.select({ id: systems.id }).from(systems).where(eq(systems.key, use.systemKey));
  const sa = account.who.handle;
  const what = credential ? `${credential.kind} '${credential.name}'${credential.holder === sa ? '' : ` of ${credential.holder}`}` : undefined;
  const where = use.entitlementKey ?? (use.systemKey && use.action ? `${use.systemKey} (${use.action})` : use.systemKey ?? 'an unknown system');
  const summary = use.reason === 'human_use_of_service_account'
    ? `a person used service account ${sa} interactively${what ? ` with ${what}` : ''} at ${where}`
    : `${asked?.handle ?? 'someone'} presented ${what ?? 'a credential'} of service account ${sa} at ${where}`;
  // As in the credential scan: the owner answers; a departed owner leaves the finding to IAM.
  const accountable = account.owner?.status === 'active' ? account.owner : null;
  return openFinding(work, {
    kind: 'credential_human_use', key: humanUseKey(use), summary, identityId: account.who.id,
    systemId: system?.id ?? credential?.systemId ?? null, ownerId: accountable?.id ?? null,
    evidence: {
      at: use.at.toISOString(), reason: use.reason, askedAbout: asked?.handle ?? use.askedAboutId, askedAboutKind: asked?.kind ?? null,
      serviceAccount: sa, owner: account.owner?.handle ?? null, credentialId: credential?.id ?? null,
      credential: credential ? { name: credential.name, kind: credential.kind, holder: credential.holder, system: credential.system } : null,
      entitlement: use.entitlementKey, system: use.systemKey, action: use.action, context: use.context ?? {},
    },
  });
});
