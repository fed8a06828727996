/**
 * The credential scan: every active credential checked against its kind's rules; each condition a
 * finding routed to the identity's accountable owner (or IAM when the owner is gone), and findings
 * whose condition has passed closed.
 */
import { and, eq, inArray, lt } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { credentialConditions, CREDENTIAL_FINDING_KINDS, DEFAULT_CREDENTIAL_SETTINGS } from '../domain/credentials.js';
import { inTransaction, type Context } from '../work/context.js';
import { openFinding, resolveFindingsWhere } from '../operations/lib/provisioning/findings.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { identities } from '../store/schema.js';
import { credentials } from '../store/schema-credentials.js';
import { findings } from '../store/schema-provisioning.js';

const owners = alias(identities, 'owner');

export const scanCredentials = (ctx: Context): Promise<{ opened: number; closed: number }> => inTransaction(ctx, async (work) => {
  const settings = (await loadAppliedPolicy(work.tx)).credentials ?? DEFAULT_CREDENTIAL_SETTINGS;
  const rows = await work.tx.select({ c: credentials, who: identities, owner: owners }).from(credentials)
    .innerJoin(identities, eq(identities.id, credentials.identityId))
    .leftJoin(owners, eq(owners.id, identities.ownerId))
    .where(eq(credentials.status, 'active'));
  let opened = 0;
  for (const { c, who, owner } of rows) {
    // A service account answers through its owner; a person's own credential through themselves.
    const accountable = who.kind === 'service_account' ? owner : who;
    const conditions = credentialConditions({
      id: c.id, name: c.name, kind: c.kind, createdAt: c.createdAt, lastRotatedAt: c.lastRotatedAt, expiresAt: c.expiresAt,
      lastUsedAt: c.lastUsedAt, retirementDueAt: c.retirementDueAt, identityHandle: who.handle, ownerHandle: accountable?.handle ?? null, ownerActive: accountable?.status === 'active',
    }, settings, work.now);
    for (const condition of conditions) {
      const result = await openFinding(work, { ...condition, identityId: who.id, systemId: c.systemId,
        ownerId: accountable?.status === 'active' ? accountable.id : null });
      if (result.opened) opened += 1;
    }
  }
  const closed = await resolveFindingsWhere(work, and(inArray(findings.kind, [...CREDENTIAL_FINDING_KINDS]), lt(findings.lastSeenAt, work.now))!,
    'the credential no longer meets the condition');
  return { opened, closed };
});
