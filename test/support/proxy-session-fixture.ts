import { eq } from 'drizzle-orm';
import { asciicastEvent, asciicastHeader } from '../../src/domain/asciicast.js';
import { newId } from '../../src/domain/ids.js';
import { canonicalStatement, recordingSha256, type RecordedStatement } from '../../src/domain/proxy-recording.js';
import { appendProxyStatements, endProxySession } from '../../src/operations/end-proxy-session.js';
import { startProxySession } from '../../src/operations/start-proxy-session.js';
import { entitlements, grants, identities, systems } from '../../src/store/schema.js';
import type { World } from './world.js';

/** The grant's person and target, as the proxy knows them when it lets someone in. */
const grantTarget = async (w: World, grantId: string) => {
  const [row] = await w.store.db.select({ identityId: grants.identityId, handle: identities.handle, entitlementId: entitlements.id,
    key: entitlements.key, systemId: systems.id, systemKey: systems.key }).from(grants)
    .innerJoin(identities, eq(identities.id, grants.identityId)).innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
    .innerJoin(systems, eq(systems.id, entitlements.systemId)).where(eq(grants.id, grantId));
  return row!;
};

/** Writes the lines as the recording writer does (seq from 1), then ends the session with their digest unless it stays open. */
const recordLines = async (w: World, id: string, lines: string[], open: boolean | undefined) => {
  await appendProxyStatements(w.worker, id, 1, lines);
  if (!open) await endProxySession(w.worker, { id, reason: 'client_closed', statements: lines.length, recordingSha256: recordingSha256(lines) });
};

/**
 * A proxied session as the proxy writes it (started, statements appended, ended with the digest),
 * through the same operations, without a network: for tests of who reads sessions and what they see.
 * A statement is its text, or the fields that differ from a one-row SELECT that took 100 µs.
 */
export const recordSession = async (
  w: World, grantId: string, statements: (string | Partial<Omit<RecordedStatement, 'seq'>>)[], options: { open?: boolean } = {},
): Promise<string> => {
  const row = await grantTarget(w, grantId);
  const id = newId();
  await startProxySession(w.worker, {
    id, protocol: 'postgres', identityId: row.identityId, handle: row.handle, grantId, entitlement: row.key, clientAddress: '127.0.0.1:50000',
    target: { systemId: row.systemId, systemKey: row.systemKey, entitlementId: row.entitlementId, account: `t_${row.handle}`, role: 'payments_read' },
  });
  const lines = statements.map((s, i) => canonicalStatement({
    seq: i + 1, at: w.clock.now(), durationUs: 100, protocol: 'simple', text: '', params: null, tags: ['SELECT 1'], rows: 1, error: null,
    ...(typeof s === 'string' ? { text: s } : s),
  }));
  await recordLines(w, id, lines, options.open);
  return id;
};

/**
 * An SSH session as the SSH proxy writes it (src/proxy/ssh/session.ts): an asciicast v2 recording, the
 * header line then one `[seconds, "o", text]` event per output, half a second apart, and the proxy's
 * `m` mark of why it ended. `account@host` is what the person signed in as.
 */
export const recordSshSession = async (
  w: World, grantId: string, outputs: string[], options: { open?: boolean; account?: string; host?: string } = {},
): Promise<string> => {
  const row = await grantTarget(w, grantId);
  const { account = 'deploy', host = 'app-1' } = options;
  const id = newId();
  await startProxySession(w.worker, {
    id, protocol: 'ssh', identityId: row.identityId, handle: row.handle, grantId, entitlement: row.key, clientAddress: '127.0.0.1:50022',
    target: { systemId: row.systemId, systemKey: row.systemKey, entitlementId: row.entitlementId, account: `${account}@${host}`, role: account },
  });
  const lines = [
    asciicastHeader({ width: 80, height: 24, startedAt: w.clock.now(), title: `${row.handle} as ${account}@${host}` }),
    ...outputs.map((text, i) => asciicastEvent(500 * (i + 1), 'o', text)),
    ...(options.open ? [] : [asciicastEvent(500 * (outputs.length + 1), 'm', 'ended: client_closed')]),
  ];
  await recordLines(w, id, lines, options.open);
  return id;
};
