import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { fingerprintOf, readCaPublicKey } from '../ssh/keys.js';
import { systems } from '../store/schema.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput } from './input.js';
import { openFinding } from './lib/provisioning/findings.js';
import { provisioningSettings } from './lib/provisioning/settings.js';

export const Input = z.object({
  host: z.string().min(1, 'must name the host').max(63, 'must be at most 63 characters').describe('the host\'s name in the policy (proxy.hosts)'),
  user: z.string().min(1, 'must name the account').max(256, 'must be at most 256 characters').describe('the account being signed in to (sshd: %u)'),
  fingerprint: z.string().max(128, 'must be at most 128 characters').regex(/^SHA256:[A-Za-z0-9+/]+$/, 'must be a SHA256 fingerprint (sshd: %f)'),
  client: z.union([z.ipv4(), z.ipv6()], { error: 'must be the client\'s IP address (the first word of sshd\'s %C)' }).optional()
    .describe('the client\'s address, from %C where sshd offers it (OpenSSH 9.4 and later); the answer\'s from= restricts it either way'),
}).strict();

/**
 * `tenure ssh authorized-keys`, run by a proxied host's sshd as AuthorizedKeysCommand for every key
 * offered for every account: the keys that account accepts, which for an account the proxy serves
 * is the proxy's upstream key alone (restricted to the proxies' addresses when the policy names
 * them), and for any other account nothing Tenure has a say in. An offer of any other key to a
 * proxied account, or of the proxy's key from another address, is someone going around the proxy:
 * it opens (or refreshes) a `session_outside_proxy` finding, committed with its audit event before
 * sshd gets its answer. The offer is seen before sshd checks the signature, so the finding says an
 * attempt was made, not that it succeeded (it cannot: the key is not authorised).
 */
export const sshAuthorizedKeys = async (ctx: Context, input: z.input<typeof Input>): Promise<{ keys: string[] }> => {
  const data = parseInput(Input, input);
  await authorize(ctx, 'ssh.principals');
  const settings = await provisioningSettings(ctx.store.db);
  for (const [systemKey, system] of Object.entries(settings.systems)) {
    if (system.connector.type !== 'ssh-ca' || !system.connector.proxy?.hosts[data.host]) continue;
    if (!Object.values(system.targets).includes(data.user)) continue;
    const { upstream_key: upstreamKey, addresses } = system.connector.proxy;
    const keyPath = upstreamKey.slice('file:'.length);
    const [publicKey, proxyFingerprint] = await Promise.all([readCaPublicKey(keyPath), fingerprintOf(keyPath)]);
    // Without the client's address (older sshd), the key decides here and the answer's from= at sshd.
    const fromProxy = data.fingerprint === proxyFingerprint && (addresses === undefined || data.client === undefined || addresses.includes(data.client));
    if (!fromProxy) await recordBypass(ctx, systemKey, data, addresses ?? []);
    return { keys: [addresses === undefined ? publicKey : `from="${addresses.join(',')}" ${publicKey}`] };
  }
  return { keys: [] };
};

const recordBypass = (ctx: Context, systemKey: string, data: z.output<typeof Input>, proxyAddresses: string[]) =>
  inTransaction(ctx, async (work) => {
    const [system] = await work.tx.select({ id: systems.id }).from(systems).where(eq(systems.key, systemKey));
    if (!system) return;
    const account = `${data.user}@${data.host}`;
    const where = data.client ? ` at ${data.client}` : '';
    await openFinding(work, {
      kind: 'session_outside_proxy', key: `session_outside_proxy:${system.id}:${account}:${data.client ?? data.fingerprint}`, systemId: system.id,
      summary: `someone${where} tried to sign in to ${account} without Tenure's proxy (key ${data.fingerprint}): the host accepts only the proxy's key`,
      evidence: { account, clientAddress: data.client ?? null, fingerprint: data.fingerprint, proxyAddresses },
    });
  });
