import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { recordingSha256 } from '../src/domain/proxy-recording.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { rawRows } from '../src/store/database.js';
import { grantThrough } from './support/flows.js';
import { allEnded, endedEvent, recordsOf } from './support/pg-proxy-world.js';
import { SSH_TEST_USER, isRoot } from './support/sshd.js';
import { certify, LOGIN, startSshProxyWorld, type SshProxyWorld } from './support/ssh-proxy-world.js';
import { hostileSftp, markersIn, scp, sftp, sftpSession } from './support/file-transfer.js';

/**
 * Issue 18, file transfer: OpenSSH's own `sftp` and `scp` (SFTP underneath since OpenSSH 9, and
 * legacy `scp -O`) through Tenure's SSH proxy to a real sshd. The files arrive whole; the recording
 * lists what was done to which path, with byte counts and never the bytes; an entitlement with
 * `file_transfer: false` refuses; the grant's end cuts a transfer; hostile packets close that
 * transfer only.
 */
let p: SshProxyWorld;
/** The host's directory the transfers write to, owned by the account the proxy signs in as. */
let remote: string;
/** This side's files. */
let local: string;

const askFor = (entitlement: string, duration: string) =>
  grantThrough(p.w, 'carl', { entitlement, justification: 'copy the release', duration }, ['sam', 'olivia', 'selma']);

const sessionsOf = (grant: string) => rawRows<{ id: string; end_reason: string; recording_sha256: string }>(p.w.store.db,
  sql`SELECT id, end_reason, recording_sha256 FROM proxy_sessions WHERE grant_id = ${grant} ORDER BY started_at, id`);

/** The markers of a grant's sessions, oldest first, once they have all ended. */
const markersOf = async (grant: string): Promise<string[]> => {
  await allEnded(p.w.store);
  return markersIn((await Promise.all((await sessionsOf(grant)).map((s) => recordsOf(p.w.store, s.id)))).flat());
};

const port = () => p.proxy.address().port;

/** The long-running sftp clients the tests start, so that none outlives them. */
const running: ReturnType<typeof sftpSession>[] = [];
const session = (options: string[] = []) => {
  const started = sftpSession(p, port(), options);
  running.push(started);
  return started;
};

describe('file transfer through the SSH proxy', { skip: isRoot() ? false : 'needs root: sshd and a login user' }, () => {
  before(async () => {
    p = await startSshProxyWorld({ opsFileTransfer: false });
    remote = mkdtempSync('/tmp/tenure-sftp-remote-');
    const uid = Number(spawnSync('id', ['-u', SSH_TEST_USER], { encoding: 'utf8' }).stdout);
    chownSync(remote, uid, uid);
    local = join(p.dir, 'local');
    mkdirSync(local);
  });
  after(async () => {
    // An sftp left running by a failed test would hold its sshd session, and sshd's stop would wait for it.
    for (const client of running) client.kill();
    await p?.stop();
    rmSync(remote, { recursive: true, force: true });
    assert.deepEqual(p?.errors.map((e) => e.message) ?? [], [], 'the proxy reported no errors');
  });

  it('refuses sftp, scp and scp -O to an entitlement with file_transfer: false, saying why, and records each refusal', async () => {
    const ops = await askFor('bastion/ops', '2h');
    await certify(p, ops);
    writeFileSync(join(local, 'refused.txt'), 'not to go\n');
    const viaSftp = await sftp(p, port(), [`put ${join(local, 'refused.txt')} ${remote}/refused.txt`]);
    const viaScp = await scp(p, port(), [join(local, 'refused.txt'), `${LOGIN}@127.0.0.1:${remote}/refused.txt`]);
    const viaLegacy = await scp(p, port(), ['-O', join(local, 'refused.txt'), `${LOGIN}@127.0.0.1:${remote}/refused.txt`]);
    for (const [name, run] of [['sftp', viaSftp], ['scp', viaScp], ['scp -O', viaLegacy]] as const) {
      assert.notEqual(run.code, 0, name);
      assert.match(run.stderr, /Tenure: file transfer \(SFTP and scp\) is not allowed for bastion\/ops/, name);
    }
    assert.deepEqual(spawnSync('ls', ['-A', remote], { encoding: 'utf8' }).stdout, '', 'nothing reached the host');
    const refusals = (await markersOf(ops)).filter((m) => m.startsWith('refused:')).sort();
    assert.deepEqual(refusals, [`refused: exec: scp -t ${remote}/refused.txt`, 'refused: subsystem sftp', 'refused: subsystem sftp']);
    await revokeGrant(await p.w.as('carl'), { grant: ops, reason: 'checked in' });
  });

  let deploy: string;
  it('uploads and downloads with sftp -b, the files intact, and records each operation with its path and byte counts, never the bytes', async () => {
    deploy = await askFor('bastion/deploy', '1d');
    await certify(p, deploy);
    const content = Buffer.concat([Buffer.from('secret-content\n'), randomBytes(300 * 1024)]);
    writeFileSync(join(local, 'release.bin'), content);
    const run = await sftp(p, port(), [
      `put ${join(local, 'release.bin')} ${remote}/release.bin`,
      `get ${remote}/release.bin ${join(local, 'back.bin')}`,
      `rename ${remote}/release.bin ${remote}/kept.bin`,
      `mkdir ${remote}/dir`, `rmdir ${remote}/dir`,
      `chmod 600 ${remote}/kept.bin`,
      `symlink ${remote}/kept.bin ${remote}/link`,
      `rm ${remote}/link`,
      `-rm ${remote}/missing`,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(readFileSync(join(local, 'back.bin')).equals(content), 'the file came back as it went');
    assert.ok(readFileSync(join(remote, 'kept.bin')).equals(content), 'the file arrived whole on the host');
    const n = content.length;
    const markers = (await markersOf(deploy)).filter((m) => m !== 'subsystem sftp' && !/^(exit status|ended:)/.test(m));
    assert.deepEqual(markers, [
      `sftp: open ${remote}/release.bin (write,create,truncate)`,
      `sftp: close ${remote}/release.bin (0 bytes read, ${n} bytes written)`,
      `sftp: open ${remote}/release.bin (read)`,
      `sftp: close ${remote}/release.bin (${n} bytes read, 0 bytes written)`,
      `sftp: rename ${remote}/release.bin to ${remote}/kept.bin`,
      `sftp: mkdir ${remote}/dir`,
      `sftp: rmdir ${remote}/dir`,
      `sftp: setstat ${remote}/kept.bin (mode 0600)`,
      `sftp: symlink ${remote}/link to ${remote}/kept.bin`,
      `sftp: remove ${remote}/link`,
      `sftp: remove ${remote}/missing failed: no such file`,
    ]);
    const [session] = await sessionsOf(deploy);
    const lines = await recordsOf(p.w.store, session!.id);
    assert.ok(!lines.some((l) => l.includes('secret-content')), 'the file\'s content is not in the recording');
    assert.equal(session!.recording_sha256, recordingSha256(lines));
    assert.ok((await endedEvent(p.w.store, session!.id))?.includes(session!.recording_sha256), 'the ended event carries the digest');
  });

  it('copies with scp both ways (SFTP underneath) and with legacy scp -O, recording the operations or the command and its byte counts', async () => {
    const content = Buffer.concat([Buffer.from('secret-content\n'), randomBytes(64 * 1024)]);
    writeFileSync(join(local, 'notes.bin'), content);
    const before = new Set((await sessionsOf(deploy)).map((s) => s.id));
    const up = await scp(p, port(), [join(local, 'notes.bin'), `${LOGIN}@127.0.0.1:${remote}/notes.bin`]);
    const down = await scp(p, port(), [`${LOGIN}@127.0.0.1:${remote}/notes.bin`, join(local, 'notes-back.bin')]);
    const legacyUp = await scp(p, port(), ['-O', join(local, 'notes.bin'), `${LOGIN}@127.0.0.1:${remote}/legacy.bin`]);
    const legacyDown = await scp(p, port(), ['-O', `${LOGIN}@127.0.0.1:${remote}/legacy.bin`, join(local, 'legacy-back.bin')]);
    for (const run of [up, down, legacyUp, legacyDown]) assert.equal(run.code, 0, run.stderr);
    for (const file of [join(remote, 'notes.bin'), join(local, 'notes-back.bin'), join(remote, 'legacy.bin'), join(local, 'legacy-back.bin')]) {
      assert.ok(readFileSync(file).equals(content), `${file} arrived whole`);
    }
    await allEnded(p.w.store);
    const sessions = (await sessionsOf(deploy)).filter((s) => !before.has(s.id));
    assert.equal(sessions.length, 4);
    // One marker list per session; which session is which is told by what it holds (they may start in the same instant).
    const each = await Promise.all(sessions.map(async (s) => markersIn(await recordsOf(p.w.store, s.id))));
    const n = content.length;
    const holding = (marker: string) => each.filter((markers) => markers.includes(marker)).length;
    assert.equal(holding(`sftp: close ${remote}/notes.bin (0 bytes read, ${n} bytes written)`), 1, each.flat().join('\n'));
    assert.equal(holding(`sftp: close ${remote}/notes.bin (${n} bytes read, 0 bytes written)`), 1, each.flat().join('\n'));
    for (const command of [`scp -t ${remote}/legacy.bin`, `scp -f ${remote}/legacy.bin`]) {
      const [legacy, ...others] = each.filter((markers) => markers.includes(`exec: ${command}`));
      assert.ok(legacy, `${command} in:\n${each.flat().join("\n")}`);
      assert.deepEqual(others, [], command);
      assert.ok(legacy!.some((m) => /^scp: \d+ bytes to the host, \d+ bytes from it \(not kept\)$/.test(m)), legacy!.join('\n'));
    }
    for (const s of sessions) assert.ok(!(await recordsOf(p.w.store, s.id)).some((l) => l.includes('secret-content')), 'no content recorded');
  });

  it('closes a transfer that sends an oversized packet, relays a malformed one as it is, records both, and goes on serving another transfer', async () => {
    const other = session();
    await other.run(`ls ${remote}`);
    const outcome = await hostileSftp(p, port());
    assert.deepEqual(outcome, { oversizedClosed: true, malformedClosed: true });
    writeFileSync(join(local, 'after.txt'), 'still served\n');
    await other.run(`put ${join(local, 'after.txt')} ${remote}/after.txt`);
    assert.equal(readFileSync(join(remote, 'after.txt'), 'utf8'), 'still served\n');
    other.end();
    assert.equal(await other.exited, 0);
    const markers = await markersOf(deploy);
    assert.ok(markers.includes('sftp: a packet of 1073741824 bytes from the client is over the limit; the file transfer was closed'), markers.join('\n'));
    assert.ok(markers.includes('sftp: unparseable packet from the client (type 3, 9 bytes), relayed as it is'), markers.join('\n'));
  });

  it('cuts an sftp upload in progress within a second of the grant\'s revocation, recording the file left open before the end', async () => {
    writeFileSync(join(local, 'large.bin'), randomBytes(4 * 1024 * 1024));
    // -l: at 2 Mbit/s the upload takes about 16 s, so the revocation comes in the middle of it.
    const upload = session(['-l', '2000']);
    await upload.run(`ls ${remote}`);
    upload.send(`put ${join(local, 'large.bin')} ${remote}/large.bin`);
    const target = join(remote, 'large.bin');
    for (const deadline = Date.now() + 10_000; !(existsSync(target) && statSync(target).size > 0);) {
      assert.ok(Date.now() < deadline, 'the upload started');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const revoked = Date.now();
    await revokeGrant(await p.w.as('carl'), { grant: deploy, reason: 'done early' });
    while (upload.connected() && Date.now() - revoked < 5000) await new Promise((resolve) => setTimeout(resolve, 10));
    const took = Date.now() - revoked;
    assert.ok(took < 1000, `the connection closed ${took} ms after the revocation`);
    upload.end();
    assert.notEqual(await upload.exited, 0, 'the upload failed');
    assert.match(upload.output(), /Tenure: your grant was revoked; the session is closed/);
    const arrived = statSync(target).size;
    assert.ok(arrived < 4 * 1024 * 1024, `${arrived} bytes arrived, not the whole file`);
    const cut = (await sessionsOf(deploy)).filter((s) => s.end_reason === 'grant_revoked');
    assert.equal(cut.length, 1, 'the open session, and only it, ended at the revocation');
    const markers = markersIn(await recordsOf(p.w.store, cut[0]!.id));
    const [first, opened, leftOpen, ended] = markers.filter((m) => m === 'subsystem sftp' || m.includes('large.bin') || m.startsWith('ended:'));
    assert.deepEqual([first, opened, ended], ['subsystem sftp', `sftp: open ${target} (write,create,truncate)`, 'ended: grant_revoked']);
    assert.match(leftOpen!, new RegExp(`^sftp: ${target} left open \\(0 bytes read, (\\d+) bytes written\\)$`));
    const written = Number(/(\d+) bytes written/.exec(leftOpen!)![1]);
    assert.ok(written > 0 && written <= arrived, `${written} bytes counted as written, ${arrived} on the host`);
  });
});
