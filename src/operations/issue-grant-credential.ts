import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { connectorFor } from '../connectors/registry.js';
import { TenureError } from '../domain/errors.js';
import { findEntitlement } from '../store/queries/catalogue.js';
import { findIdentityById, lockIdentity } from '../store/queries/identities.js';
import { grants } from '../store/schema.js';
import { inTransaction, type Context } from '../work/context.js';
import { loadActor, requireMayAct } from './authorize.js';
import { parseInput } from './input.js';
import { newSecret } from './lib/credentials/secrets.js';
import { loadGrantContext } from './lib/provisioning/grant-context.js';
import { provisioningSettings } from './lib/provisioning/settings.js';

export const Input = z.object({ grant: z.uuid('must be a grant id') }).strict();

/**
 * The holder of a live, provisioned grant takes a fresh password for the target's account, shown
 * once: Tenure keeps no copy (the target keeps a SCRAM verifier), logs none, and records only that
 * it was issued. It is valid until the account's end in the target too, replaces any earlier one,
 * and the last removal clears it. Only the holder (or a service account's owner) may take it: a
 * credential handed to anyone else would make the account shared.
 */
export const issueGrantCredential = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  const settings = await provisioningSettings(ctx.store.db);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const missing = () => new TenureError('grant.not_found', `no grant '${data.grant}'`, { field: 'grant' });
    const [seen] = await work.tx.select({ identityId: grants.identityId }).from(grants).where(eq(grants.id, data.grant));
    if (!seen) throw missing();
    // The holder, then the grant, as revocation locks them: a revocation racing this waits for it
    // (and its removal then clears the password), or this sees the grant ended.
    await lockIdentity(work.tx, seen.identityId);
    const [grant] = await work.tx.select().from(grants).where(eq(grants.id, data.grant)).for('update');
    const holder = await findIdentityById(work.tx, grant!.identityId);
    const me = acting.identity.id;
    const allowed = grant!.identityId === me || (holder?.kind === 'service_account' && holder.ownerId === me);
    requireMayAct(acting, { allowed, readAll: 'grant.read_all', notFound: missing, refusal: 'only the holder takes a credential for a grant', field: 'grant' });
    const { entitlement, system } = await findEntitlement(work.tx, grant!.entitlementId);
    if (entitlement.sharedAccount) {
      // The person reaches a shared account only through the proxy, which signs in for them: no password is ever theirs.
      throw new TenureError('shared_account.no_credential', `${entitlement.key} is a shared account: connect through the PostgreSQL proxy`, { field: 'grant' });
    }
    const spec = settings.systems[system.key];
    const connector = connectorFor(spec);
    if (!spec || !connector?.setPassword) {
      throw new TenureError('grant.credential_unsupported', `${system.key} uses ${spec?.connector.type ?? 'no'} connector, which does not hand out credentials`, { field: 'grant' });
    }
    if (grant!.status !== 'active' || grant!.provisioningState !== 'provisioned') {
      throw new TenureError('grant.credential_unavailable', `the grant is ${grant!.status} and ${grant!.provisioningState}: a credential needs a live grant the target has confirmed`, { field: 'grant' });
    }
    const context = await loadGrantContext(work.tx, grant!.id);
    const password = newSecret('tnp');
    const signIn = await connector.setPassword(context.connectorGrant(spec.targets[entitlement.key] ?? entitlement.key), password)
      .finally(() => connector.close?.());
    await work.tx.update(grants).set({ credentialIssuedAt: work.now }).where(eq(grants.id, grant!.id));
    work.record({ action: 'grant.credential_issued', subject: { type: 'grant', id: grant!.id }, identityId: grant!.identityId, systemId: system.id,
      data: { account: signIn.account, target: signIn.target, validUntil: signIn.validUntil, replacedEarlier: grant!.credentialIssuedAt !== null } });
    return { grant: grant!.id, system: system.key, account: signIn.account, target: signIn.target, validUntil: signIn.validUntil,
      password, issuedAt: work.now };
  });
};
