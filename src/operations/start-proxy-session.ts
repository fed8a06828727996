import { and, eq } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import { grants } from '../store/schema.js';
import { proxySessions } from '../store/schema-proxy.js';
import { inTransaction, type Context } from '../work/context.js';
import type { PgProxyTarget } from './resolve-proxy-target.js';

export interface StartProxySession {
  id: string; protocol: 'postgres' | 'ssh'; identityId: string; handle: string; grantId: string; entitlement: string; clientAddress: string;
  target: Pick<PgProxyTarget, 'systemId' | 'systemKey' | 'entitlementId' | 'account' | 'role'>;
}

/**
 * A proxied session begins: the row and its `proxy_session.started` event commit together. The
 * grant is read again here (the decision point answered from memory): a grant that ended between
 * the answer and now refuses the session rather than opening one the watcher would end at once.
 */
export const startProxySession = (ctx: Context, input: StartProxySession) => inTransaction(ctx, async (work) => {
  const [grant] = await work.tx.select({ status: grants.status, endsAt: grants.endsAt }).from(grants)
    .where(and(eq(grants.id, input.grantId), eq(grants.identityId, input.identityId)));
  if (grant?.status !== 'active' || (grant.endsAt !== null && grant.endsAt <= work.now)) {
    throw new TenureError('grant.credential_unavailable', 'the grant is not live', { field: 'grant' });
  }
  const { systemId, entitlementId, account, role } = input.target;
  await work.tx.insert(proxySessions).values({
    id: input.id, protocol: input.protocol, identityId: input.identityId, grantId: input.grantId, systemId, entitlementId,
    account, role, clientAddress: input.clientAddress, startedAt: work.now,
  });
  work.record({ action: 'proxy_session.started', subject: { type: 'proxy_session', id: input.id }, identityId: input.identityId, systemId,
    data: { protocol: input.protocol, person: input.handle, grant: input.grantId, system: input.target.systemKey, entitlement: input.entitlement,
      account, role, clientAddress: input.clientAddress } });
  return { startedAt: work.now };
});
