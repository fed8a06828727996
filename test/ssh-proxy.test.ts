import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { recordingSha256 } from '../src/domain/proxy-recording.js';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { showProxySession } from '../src/operations/show-proxy-session.js';
import { rawRows } from '../src/store/database.js';
import { refusedWith } from './support/assert.js';
import { grantThrough } from './support/flows.js';
import { allEnded, endedEvent, recordsOf } from './support/pg-proxy-world.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { SSH_TEST_USER, isRoot } from './support/sshd.js';
import { certify as certifyIn, LOGIN, ssh, startSshProxyWorld, terminal as terminalIn, type SshProxyWorld } from './support/ssh-proxy-world.js';

/**
 * Issue 18, the SSH half: OpenSSH's own `ssh` through Tenure's SSH proxy to a real sshd that
 * trusts only the proxy's key. Carl signs in with the key Tenure certified for his grant, names
 * `account@host`, runs commands and a terminal that are recorded as an asciicast under the digest
 * the audit chain carries, and is cut off when the grant is revoked.
 */
let p: SshProxyWorld;
const viaProxy = (command: string, extra: string[] = [], key = p.keys.carl) => ssh({ port: p.proxy.address().port, key, login: LOGIN, command, extra });
const sessionsNow = async () => (await allEnded(p.w.store));
const deployGrant = () => grantThrough(p.w, 'carl', { entitlement: 'bastion/deploy', justification: 'release night', duration: '1d' }, ['sam', 'olivia', 'selma']);
const certify = (grant: string, mfa: boolean | Date = false) => certifyIn(p, grant, mfa);
const terminal = () => terminalIn(p);

describe('the SSH proxy in front of a real sshd', { skip: isRoot() ? false : 'needs root: sshd and a login user' }, () => {
  let grant: string;
  let certificate: string;

  before(async () => {
    p = await startSshProxyWorld();
  });
  after(async () => {
    await p?.stop();
    assert.deepEqual(p?.errors.map((e) => e.message) ?? [], [], 'the proxy reported no errors');
  });
  it('refuses carl before Tenure certified his key for a grant, and records no session', async () => {
    const attempt = await viaProxy('true');
    assert.equal(attempt.ok, false);
    assert.match(attempt.stderr, /Permission denied/);
    assert.deepEqual(await sessionsNow(), []);
  });

  it('runs carl\'s command on the host as the grant\'s account, recorded as an asciicast under the digest the chain carries', async () => {
    grant = await deployGrant();
    certificate = await certify(grant);
    const run = await ssh({ port: p.proxy.address().port, key: p.keys.carl, login: LOGIN, certificate, command: 'echo "hello from $(id -un)"; exit 3' });
    assert.equal(run.stdout, `hello from ${SSH_TEST_USER}\n`, run.stderr);
    assert.equal(run.ok, false, 'the exit status 3 came back');
    const [session] = await sessionsNow();
    assert.deepEqual([session!.end_reason, session!.account, session!.role], ['client_closed', LOGIN, SSH_TEST_USER]);
    const lines = await recordsOf(p.w.store, session!.id);
    const header = JSON.parse(lines[0]!) as { version: number; title: string };
    assert.deepEqual([header.version, header.title], [2, `carl as ${LOGIN}`]);
    const events = lines.slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    assert.deepEqual(events.filter((e) => e[1] === 'm').map((e) => e[2]).slice(0, 2), ['exec: echo "hello from $(id -un)"; exit 3', 'exit status 3']);
    assert.equal(events.filter((e) => e[1] === 'o').map((e) => e[2]).join(''), `hello from ${SSH_TEST_USER}\n`);
    assert.equal(session!.recording_sha256, recordingSha256(lines));
    assert.ok((await endedEvent(p.w.store, session!.id))?.includes(session!.recording_sha256!), 'the ended event carries the digest');
    const shown = await showProxySession(await p.w.as('selma'), { session: session!.id });
    assert.equal(shown.verified, true);
    assert.equal(shown.asciicast, lines.join('\n'), 'shown as the asciicast file whose SHA-256 the chain carries');
  });

  it('leaves no way around the proxy: the host refuses carl\'s own key and certificate', async () => {
    const direct = await ssh({ port: p.sshd.port, key: p.keys.carl, login: SSH_TEST_USER, certificate, command: 'true' });
    assert.equal(direct.ok, false);
    assert.match(direct.stderr, /Permission denied/);
  });

  it('refuses a key Tenure never certified, a login that is not account@host and a host the policy does not name', async () => {
    const before = (await sessionsNow()).length;
    for (const attempt of [
      await viaProxy('true', [], p.keys.stranger),
      await ssh({ port: p.proxy.address().port, key: p.keys.carl, login: SSH_TEST_USER, command: 'true' }),
      await ssh({ port: p.proxy.address().port, key: p.keys.carl, login: `${SSH_TEST_USER}@web2`, command: 'true' }),
      await ssh({ port: p.proxy.address().port, key: p.keys.carl, login: `root@web1`, command: 'true' }),
    ]) assert.match(attempt.stderr, /Permission denied/);
    assert.equal((await sessionsNow()).length, before);
  });

  it('refuses port forwarding and records the refusal', async () => {
    const attempt = await viaProxy('', ['-W', `127.0.0.1:${p.sshd.port}`]);
    assert.equal(attempt.ok, false);
    const recordings = await Promise.all((await sessionsNow()).map((s) => recordsOf(p.w.store, s.id)));
    assert.ok(recordings.some((lines) => lines.some((l) => l.includes(`refused: forwarding to 127.0.0.1:${p.sshd.port}`))));
  });

  it('survives garbage and a client that never finishes its handshake, and goes on serving carl', async () => {
    const closedAfter = (bytes: string) => new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: p.proxy.address().port });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
      socket.resume();
      if (bytes) socket.write(bytes);
    });
    await Promise.all([closedAfter('GET / HTTP/1.1\r\n\r\n'), closedAfter(''), closedAfter('SSH-2.0-x\r\n\0\0\0\xff garbage')]);
    assert.equal((await viaProxy('echo still here')).stdout, 'still here\n');
  });

  it('asks for MFA when the entitlement requires it: a certificate got without MFA is refused, one got with MFA is let in', async () => {
    await applyPolicyText(p.w, p.policy(true));
    await p.decision.sync();
    assert.match((await viaProxy('true')).stderr, /Permission denied/);
    await certify(grant, true);
    assert.equal((await viaProxy('echo with mfa')).stdout, 'with mfa\n');
    await applyPolicyText(p.w, p.policy());
    await p.decision.sync();
  });

  it('asks how old the certificate\'s MFA is where the entitlement sets a maximum: from a sign-in two hours ago refused, from one just now let in', async () => {
    await applyPolicyText(p.w, p.policy('1h'));
    await p.decision.sync();
    await certify(grant, new Date(p.w.clock.now().getTime() - 2 * 3_600_000));
    const refused = await viaProxy('true');
    assert.match(refused.stderr, /Permission denied/);
    await certify(grant, p.w.clock.now());
    assert.equal((await viaProxy('echo fresh mfa')).stdout, 'fresh mfa\n');
    await applyPolicyText(p.w, p.policy());
    await p.decision.sync();
  });

  it('asks with the address carl connects from: an entitlement allowing only other addresses refuses him, one allowing loopback lets him in', async () => {
    await applyPolicyText(p.w, p.policy(false, ['10.0.0.0/8']));
    await p.decision.sync();
    const before = (await sessionsNow()).length;
    assert.match((await viaProxy('true')).stderr, /Permission denied/);
    assert.equal((await sessionsNow()).length, before, 'no session recorded for the refusal');
    await applyPolicyText(p.w, p.policy(false, ['127.0.0.0/8', '::1/128']));
    await p.decision.sync();
    assert.equal((await viaProxy('echo from loopback')).stdout, 'from loopback\n');
    await applyPolicyText(p.w, p.policy());
    await p.decision.sync();
  });

  it('warns carl\'s terminal a minute before his grant ends, then closes it at the end', async () => {
    const before = (await sessionsNow()).length;
    const shell = terminal();
    await shell.shown('$ ');
    p.w.clock.advance(24 * 3_600_000 - 30_000);
    await shell.shown('ends at');
    p.w.clock.advance(60_000);
    assert.notEqual(await shell.exited, 0);
    assert.match(shell.output(), /your grant has ended; the session is closed/);
    const sessions = await sessionsNow();
    assert.deepEqual([sessions.length, sessions.filter((x) => x.end_reason === 'grant_ended').length], [before + 1, 1]);
  });

  it('cuts carl\'s open terminal when his grant is revoked, telling him why, with what his terminal echoed in the recording and no keystrokes', async () => {
    await runLifecycleTick(p.w.worker);
    const before = (await sessionsNow()).length;
    grant = await deployGrant();
    await certify(grant);
    const shell = terminal();
    // Typed before the shell is there: the proxy must hold it, not drop it.
    shell.type('echo ready-$((6*7))\n');
    await shell.shown('ready-42');
    await revokeGrant(await p.w.as('carl'), { grant, reason: 'done early' });
    assert.notEqual(await shell.exited, 0);
    assert.match(shell.output(), /your grant was revoked; the session is closed/);
    const sessions = await sessionsNow();
    assert.equal(sessions.length, before + 1);
    const session = sessions.find((s) => s.end_reason === 'grant_revoked')!;
    assert.equal(session.end_reason, 'grant_revoked');
    const lines = await recordsOf(p.w.store, session.id);
    const events = lines.slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    assert.ok(events.filter((e) => e[1] === 'o').map((e) => e[2]).join('').includes('echo ready-$((6*7))'), 'what he typed, as the terminal echoed it');
    assert.deepEqual(events.filter((e) => e[1] === 'i'), [], 'keystrokes are not kept: a password at a prompt is not echoed');
    assert.equal(session.recording_sha256, recordingSha256(lines));
    assert.match((await viaProxy('true')).stderr, /Permission denied/, 'and he cannot come back');
  });

  it('lends a shared account on the host to one person at a time, and records carl\'s use of it under his own name', async () => {
    const held = await grantThrough(p.w, 'carl', { entitlement: 'bastion/ops', justification: 'maintenance', duration: '2h' }, ['sam', 'olivia', 'selma']);
    // A booking for a window inside carl's is refused (a request for a length of time would wait in line instead).
    const at = (minutes: number) => new Date(p.w.clock.now().getTime() + minutes * 60_000).toISOString();
    const refused = await refusedWith(grantThrough(p.w, 'eve', { entitlement: 'bastion/ops', justification: 'me too', startsAt: at(1), endsAt: at(61) },
      ['sam', 'olivia', 'selma']), 'shared_account.checked_out');
    assert.match(refused.message, /checked out by carl/);
    await certify(held);
    assert.equal((await viaProxy('echo on the shared account')).stdout, 'on the shared account\n');
    const [session] = await rawRows<{ id: string }>(p.w.store.db, sql`SELECT id FROM proxy_sessions WHERE grant_id = ${held}`);
    const shown = await showProxySession(await p.w.as('selma'), { session: session!.id });
    assert.deepEqual([shown.person, shown.grant, shown.entitlement, shown.account], ['carl', held, 'bastion/ops', LOGIN]);
    await revokeGrant(await p.w.as('carl'), { grant: held, reason: 'checked in' });
    assert.match((await viaProxy('true')).stderr, /Permission denied/, 'checked in: the proxy lets him in no more');
  });
});
