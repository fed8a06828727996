import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { rawRows } from '../src/store/database.js';
import { grantThrough } from './support/flows.js';
import { allEnded, recordsOf } from './support/pg-proxy-world.js';
import { freePort } from './support/processes.js';
import { SSH, isRoot } from './support/sshd.js';
import { certify, LOGIN, SSH_OPTIONS, startSshProxyWorld, type SshProxyWorld } from './support/ssh-proxy-world.js';

/**
 * Issue 18, forwarding: OpenSSH's `ssh -W` and `ssh -L` through Tenure's SSH proxy to a real sshd
 * that allows local forwarding, so that what is refused is refused by the proxy. Carl's deploy
 * entitlement lists one destination, a TCP echo server; the shared ops account lists none.
 */
let p: SshProxyWorld;
let echo: Server;
let echoPort: number;
/** Listed in the allowance, but nothing listens there: the host refuses it. */
let deadPort: number;
/** The echo server's connections, each with when it closed (ms since the epoch), to see the end reach the destination. */
const echoed: { socket: Socket; closedAt?: number }[] = [];

const askFor = (entitlement: string, duration: string) =>
  grantThrough(p.w, 'carl', { entitlement, justification: 'tunnel to the database', duration }, ['sam', 'olivia', 'selma']);

/** `ssh OPTIONS login [command]` through the proxy: `input` is its stdin, its stdout comes back as bytes. */
const viaProxy = (options: string[], input: Buffer, extra: { command?: string; env?: Record<string, string>; agent?: string } = {}) =>
  new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) => {
    // ssh takes the first value of an option, so an agent replaces the test options' IdentityAgent=none rather than follows it.
    const base = SSH_OPTIONS.map((o) => (extra.agent && o === 'IdentityAgent=none' ? `IdentityAgent=${extra.agent}` : o));
    const child = spawn(SSH, [...base, '-i', p.keys.carl.privatePath, '-p', String(p.proxy.address().port), ...options, `${LOGIN}@127.0.0.1`,
      ...(extra.command ? [extra.command] : [])], { env: { PATH: '/usr/bin:/bin', LC_ALL: 'C', ...extra.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });

/** `ssh -W destination`: the forwarded connection is ssh's stdin and stdout. */
const stdioForward = (destination: string, input: Buffer) => viaProxy(['-W', destination], input);

const markersIn = (lines: string[]): string[] => lines.map((l) => JSON.parse(l) as unknown)
  .filter((e): e is [number, string, string] => Array.isArray(e) && e[1] === 'm').map((e) => e[2]);

/** The markers of the recordings of a grant's sessions, oldest first, once they have all ended. */
const markersOf = async (grant: string): Promise<string[]> => {
  await allEnded(p.w.store);
  const sessions = await rawRows<{ id: string }>(p.w.store.db, sql`SELECT id FROM proxy_sessions WHERE grant_id = ${grant} ORDER BY started_at, id`);
  return markersIn((await Promise.all(sessions.map((s) => recordsOf(p.w.store, s.id)))).flat());
};

const waitFor = async (what: string, done: () => boolean, timeoutMs = 5000) => {
  for (const deadline = Date.now() + timeoutMs; !done();) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('forwarding through the SSH proxy, allowed per entitlement', { skip: isRoot() ? false : 'needs root: sshd and a login user' }, () => {
  before(async () => {
    echo = createServer((socket) => {
      const entry: { socket: Socket; closedAt?: number } = { socket };
      echoed.push(entry);
      socket.on('error', () => undefined);
      socket.on('close', () => { entry.closedAt = Date.now(); });
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as { port: number }).port;
    deadPort = await freePort();
    p = await startSshProxyWorld({ forwarding: [`127.0.0.1:${echoPort}`, `127.0.0.1:${deadPort}`] });
  });
  after(async () => {
    await p?.stop();
    await new Promise((resolve) => echo?.close(resolve));
    assert.deepEqual(p?.errors.map((e) => e.message) ?? [], [], 'the proxy reported no errors');
  });

  it('refuses every destination to an entitlement without forwarding, even one another entitlement lists, and records the refusal', async () => {
    const ops = await askFor('bastion/ops', '2h');
    await certify(p, ops);
    const attempt = await stdioForward(`127.0.0.1:${echoPort}`, Buffer.from('hello\n'));
    assert.notEqual(attempt.code, 0);
    assert.equal(attempt.stdout.length, 0);
    assert.equal(echoed.length, 0, 'nothing reached the destination');
    assert.ok((await markersOf(ops)).includes(`refused: forwarding to 127.0.0.1:${echoPort}`));
    // Checked in: carl's next sign-in, at once, is admitted under his other grant, though the decision point has not polled yet.
    await revokeGrant(await p.w.as('carl'), { grant: ops, reason: 'checked in' });
  });

  let deploy: string;
  it('moves bytes both ways to a destination the entitlement lists, recording its opening and closing with byte counts, not the bytes', async () => {
    deploy = await askFor('bastion/deploy', '1d');
    await certify(p, deploy);
    const payload = Buffer.concat([Buffer.from('secret-payload\n'), randomBytes(1 << 20)]);
    const run = await stdioForward(`127.0.0.1:${echoPort}`, payload);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(run.stdout.equals(payload), `the echo came back whole (${run.stdout.length} of ${payload.length} bytes)`);
    const markers = await markersOf(deploy);
    const n = payload.length;
    assert.deepEqual(markers.filter((m) => m.startsWith('forwarding:')),
      [`forwarding: 127.0.0.1:${echoPort} opened`, `forwarding: 127.0.0.1:${echoPort} closed (${n} bytes in, ${n} bytes out)`]);
    const [session] = await rawRows<{ id: string }>(p.w.store.db, sql`SELECT id FROM proxy_sessions WHERE grant_id = ${deploy}`);
    assert.ok(!(await recordsOf(p.w.store, session!.id)).some((l) => l.includes('secret-payload')), 'the bytes themselves are not recorded');
  });

  it('refuses a destination the entitlement does not list, the same place under another name, a Unix socket, and one the host cannot reach, recording each', async () => {
    for (const destination of [`127.0.0.1:${p.sshd.port}`, `localhost:${echoPort}`, `127.0.0.1:${echoPort + 1}`]) {
      const attempt = await stdioForward(destination, Buffer.from('hello\n'));
      assert.notEqual(attempt.code, 0, destination);
      assert.ok((await markersOf(deploy)).includes(`refused: forwarding to ${destination}`), destination);
    }
    const dead = await stdioForward(`127.0.0.1:${deadPort}`, Buffer.from('hello\n'));
    assert.notEqual(dead.code, 0);
    assert.ok((await markersOf(deploy)).includes(`forwarding: 127.0.0.1:${deadPort} refused by the host (Connection refused)`),
      'listed, but refused by the host: nothing listens there');
    // A Unix socket on the host (`-L PORT:/path`): never listed, always refused.
    const tunnel = openTunnel(await freePort(), '/run/tenure-absent.sock');
    const socket = await connectOnceListening(tunnel.localPort);
    await new Promise((resolve) => socket.on('close', resolve));
    tunnel.child.kill();
    await tunnel.exited;
    assert.ok((await markersOf(deploy)).includes('refused: forwarding to /run/tenure-absent.sock'));
  });

  it('refuses remote, agent and X11 forwarding even to an entitlement that allows local forwarding, and records each refusal', async () => {
    // ssh asks for agent forwarding only when an agent answers at the socket it names.
    const agentSocket = join(p.dir, 'agent.sock');
    const agent = spawn('/usr/bin/ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
    await waitFor('the agent to listen', () => existsSync(agentSocket));
    const run = await viaProxy(['-R', `0:127.0.0.1:${echoPort}`, '-A', '-o', 'ForwardX11=yes'], Buffer.alloc(0),
      { command: 'echo still served', env: { DISPLAY: ':99' }, agent: agentSocket });
    agent.kill();
    assert.equal(run.stdout.toString(), 'still served\n', run.stderr);
    const markers = await markersOf(deploy);
    for (const refusal of ['refused: tcpip-forward', 'refused: agent forwarding', 'refused: X11 forwarding']) assert.ok(markers.includes(refusal), refusal);
  });

  it('closes an open ssh -L connection within a second of the session\'s end when the grant is revoked', async () => {
    const { localPort, exited } = openTunnel(await freePort(), `127.0.0.1:${echoPort}`);
    const socket = await connectOnceListening(localPort);
    let received = '';
    socket.setEncoding('utf8').on('data', (text: string) => { received += text; });
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write('ping\n');
    await waitFor('the echo through the tunnel', () => received === 'ping\n');
    const destination = echoed.at(-1)!;
    const revoked = Date.now();
    await revokeGrant(await p.w.as('carl'), { grant: deploy, reason: 'done early' });
    await Promise.all([closed, exited]);
    await waitFor('the destination to see the close', () => destination.closedAt !== undefined);
    await allEnded(p.w.store);
    const [session, ...others] = await rawRows<{ id: string }>(p.w.store.db,
      sql`SELECT id FROM proxy_sessions WHERE grant_id = ${deploy} AND end_reason = 'grant_revoked'`);
    assert.deepEqual([session !== undefined, others], [true, []], 'one session, ended by the revocation');
    // The watcher looks every 200 ms; the decision index learns of the revocation at once, so the
    // whole path from revocation to the destination's socket closing fits in a second with room.
    assert.ok(destination.closedAt! - revoked < 1000, `closed ${destination.closedAt! - revoked} ms after the revocation`);
    assert.deepEqual(markersIn(await recordsOf(p.w.store, session!.id)), [`forwarding: 127.0.0.1:${echoPort} opened`, `forwarding: 127.0.0.1:${echoPort} closed (5 bytes in, 5 bytes out)`,
      'ended: grant_revoked']);
  });
});

/** `ssh -N -L localPort:remote` through the proxy, running until the proxy closes it or it is killed. */
const openTunnel = (localPort: number, remote: string) => {
  const child = spawn(SSH, [...SSH_OPTIONS, '-N', '-o', 'ExitOnForwardFailure=yes', '-L', `${localPort}:${remote}`,
    '-i', p.keys.carl.privatePath, '-p', String(p.proxy.address().port), `${LOGIN}@127.0.0.1`], { env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' }, stdio: 'ignore' });
  return { child, localPort, exited: new Promise((resolve) => child.on('close', resolve)) };
};

/** A TCP connection to `port` on loopback, tried until something listens there (ssh -L binds after signing in). */
const connectOnceListening = async (port: number): Promise<Socket> => {
  for (const deadline = Date.now() + 10_000; ;) {
    const socket = await new Promise<Socket | undefined>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => resolve(s));
      s.once('error', () => resolve(undefined));
    });
    if (socket) return socket;
    if (Date.now() > deadline) throw new Error(`nothing listened on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};
