import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { loadHttpConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { createToken } from '../src/operations/create-token.js';
import { sshAuthorizedKeys } from '../src/operations/ssh-authorized-keys.js';
import { fingerprintOf } from '../src/ssh/keys.js';
import { auditEvents } from '../src/store/schema.js';
import { findings } from '../src/store/schema-provisioning.js';
import { refusedWith } from './support/assert.js';
import { grantThrough } from './support/flows.js';
import { SSH_TEST_USER, isRoot } from './support/sshd.js';
import { certify, LOGIN, ssh, startSshProxyWorld, type SshProxyWorld } from './support/ssh-proxy-world.js';

/**
 * Issue 18: going around the SSH proxy is seen. The host asks Tenure which keys a proxied account
 * accepts (sshd's AuthorizedKeysCommand running the real `tenure ssh authorized-keys` against the
 * HTTP API): the proxy's key alone, from the proxy's address. Any other offer is refused by sshd
 * and opens a `session_outside_proxy` finding.
 */
const TENURE_BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));
/** Every offered key runs `tenure ssh authorized-keys` (a Node process through tsx) before sshd answers. */
const LOGIN_TIMEOUT_MS = 60_000;

/** What production does: a root-owned wrapper names the server and reads the checker's token, then runs the real CLI. */
const wrapper = [
  '#!/bin/sh',
  'd="$(dirname "$0")"',
  `TENURE_SERVER="$(cat "$d/server-url")" TENURE_TOKEN="$(cat "$d/checker-token")" exec /usr/bin/node ${TENURE_BIN} ssh authorized-keys --host web1 "$@"`,
  '',
].join('\n');

let p: SshProxyWorld;
let app: FastifyInstance;
const outsideProxy = () => p.w.store.db.select().from(findings).where(eq(findings.kind, 'session_outside_proxy'));

describe('going around the SSH proxy is seen', { skip: isRoot() ? false : 'needs root: sshd and a login user' }, () => {
  before(async () => {
    p = await startSshProxyWorld({ addresses: ['127.0.0.1'], sshd: () => ({ authorizedKeysCommand: { script: wrapper, args: '%u %f' } }),
      config: { upstreamTimeoutMs: LOGIN_TIMEOUT_MS } });
    app = await buildApp({ store: p.w.store, clock: p.w.clock, http: loadHttpConfig({}) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    writeFileSync(join(p.sshd.dir, 'server-url'), `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, { mode: 0o400 });
    const token = (await createToken(await p.w.as('tom'), { name: 'sshd on web1', identity: 'bot', scopes: ['check'] })).secret;
    writeFileSync(join(p.sshd.dir, 'checker-token'), token, { mode: 0o400 });
  });
  after(async () => {
    await app?.close();
    await p?.stop();
  });

  it('lets the proxy in with the key Tenure names for the account, and opens no finding', async () => {
    const grant = await grantThrough(p.w, 'carl', { entitlement: 'bastion/deploy', justification: 'release', duration: '1d' }, ['sam', 'olivia', 'selma']);
    await certify(p, grant);
    const run = await ssh({ port: p.proxy.address().port, key: p.keys.carl, login: LOGIN, command: 'echo through the proxy', timeoutMs: LOGIN_TIMEOUT_MS });
    assert.equal(run.stdout, 'through the proxy\n', run.stderr);
    assert.deepEqual(await outsideProxy(), []);
  });

  it('refuses carl\'s own key at the host, and opens a high finding naming the account and his key', async () => {
    const direct = await ssh({ port: p.sshd.port, key: p.keys.carl, login: SSH_TEST_USER, command: 'true', timeoutMs: LOGIN_TIMEOUT_MS });
    assert.match(direct.stderr, /Permission denied/);
    const [finding] = await outsideProxy();
    assert.equal(finding?.severity, 'high');
    // Debian's sshd (9.2) does not offer the client's address (%C) to AuthorizedKeysCommand.
    assert.deepEqual(finding?.evidence, { account: LOGIN, clientAddress: null, fingerprint: await fingerprintOf(p.keys.carl.publicKey),
      proxyAddresses: ['127.0.0.1'] });
    const opened = await p.w.store.db.select().from(auditEvents).where(and(eq(auditEvents.action, 'finding.opened'), eq(auditEvents.subjectId, finding!.id)));
    assert.equal(opened.length, 1);
  });

  it('answers the proxy\'s key only from the proxy\'s addresses, reports it from anywhere else, and leaves accounts it does not serve alone', async () => {
    const bot = await p.w.as('bot');
    const proxyKey = await fingerprintOf(p.keys.upstream.publicKey);
    const answer = await sshAuthorizedKeys(bot, { host: 'web1', user: SSH_TEST_USER, fingerprint: proxyKey, client: '127.0.0.1' });
    assert.deepEqual(answer.keys, [`from="127.0.0.1" ${p.keys.upstream.publicKey.split(' ').slice(0, 2).join(' ')}`]);
    const before = (await outsideProxy()).length;
    await sshAuthorizedKeys(bot, { host: 'web1', user: SSH_TEST_USER, fingerprint: proxyKey, client: '10.9.9.9' });
    assert.equal((await outsideProxy()).length, before + 1, 'the proxy\'s key from elsewhere: someone holds a copy');
    assert.deepEqual(await sshAuthorizedKeys(bot, { host: 'web1', user: 'root', fingerprint: proxyKey, client: '10.9.9.9' }), { keys: [] });
    assert.deepEqual(await sshAuthorizedKeys(bot, { host: 'web9', user: SSH_TEST_USER, fingerprint: proxyKey, client: '10.9.9.9' }), { keys: [] });
    assert.equal((await outsideProxy()).length, before + 1);
  });

  it('lets only checkers ask, and refuses hostile input by field', async () => {
    const input = { host: 'web1', user: SSH_TEST_USER, fingerprint: 'SHA256:abc', client: '10.0.0.1' };
    await refusedWith(sshAuthorizedKeys(await p.w.as('carl'), input), 'actor.forbidden');
    await refusedWith(sshAuthorizedKeys(await p.w.as('bot'), { ...input, fingerprint: 'SHA256:a"b\n' }), 'input.invalid', 'fingerprint');
    await refusedWith(sshAuthorizedKeys(await p.w.as('bot'), { ...input, client: '10.0.0.1 22 10.0.0.5 22' }), 'input.invalid', 'client');
    await refusedWith(sshAuthorizedKeys(await p.w.as('bot'), { ...input, host: 'x'.repeat(64) }), 'input.invalid', 'host');
  });
});
