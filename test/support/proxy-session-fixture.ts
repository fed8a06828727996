import { eq } from 'drizzle-orm';
import { newId } from '../../src/domain/ids.js';
import { canonicalStatement, recordingSha256 } from '../../src/domain/proxy-recording.js';
import { appendProxyStatements, endProxySession } from '../../src/operations/end-proxy-session.js';
import { startProxySession } from '../../src/operations/start-proxy-session.js';
import { entitlements, grants, identities, systems } from '../../src/store/schema.js';
import type { World } from './world.js';

/**
 * A proxied session as the proxy writes it (started, statements appended, ended with the digest),
 * through the same operations, without a network: for tests of who reads sessions and what they see.
 */
export const recordSession = async (w: World, grantId: string, texts: string[], options: { open?: boolean } = {}): Promise<string> => {
  const [row] = await w.store.db.select({ identityId: grants.identityId, handle: identities.handle, entitlementId: entitlements.id,
    key: entitlements.key, systemId: systems.id, systemKey: systems.key }).from(grants)
    .innerJoin(identities, eq(identities.id, grants.identityId)).innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
    .innerJoin(systems, eq(systems.id, entitlements.systemId)).where(eq(grants.id, grantId));
  const id = newId();
  await startProxySession(w.worker, {
    id, protocol: 'postgres', identityId: row!.identityId, handle: row!.handle, grantId, entitlement: row!.key, clientAddress: '127.0.0.1:50000',
    target: { systemId: row!.systemId, systemKey: row!.systemKey, entitlementId: row!.entitlementId, account: `t_${row!.handle}`, role: 'payments_read' },
  });
  const lines = texts.map((text, i) => canonicalStatement({
    seq: i + 1, at: w.clock.now(), durationUs: 100, protocol: 'simple', text, params: null, tags: ['SELECT 1'], rows: 1, error: null,
  }));
  await appendProxyStatements(w.worker, id, lines.map((record, i) => ({ seq: i + 1, record })));
  if (!options.open) {
    await endProxySession(w.worker, { id, reason: 'client_closed', statements: lines.length, recordingSha256: recordingSha256(lines) });
  }
  return id;
};
