import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { auditKeyEnv } from './support/audit-key.js';
import { BACKENDS } from './support/backends.js';
import { createScratchDatabase } from './support/postgres-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const IMAGE = `${process.env.TENURE_IMAGE ?? 'localhost/tenure'}:latest`; // as scripts/image.sh names it
// What works on these machines (and CI's): Debian's runc, cgroups without systemd, the host's
// network (no CNI setup), and limits runc can set inside the VM's.
const PODMAN = ['--runtime', 'runc', '--cgroup-manager=cgroupfs'];
const RUN = ['--network', 'host', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
// As docs/container.md says to run it: nothing writable but the volume (and podman's tmpfs on /tmp
// and /run), no capabilities, no way to gain privileges.
const HARDENED = ['--read-only', '--cap-drop', 'all', '--security-opt', 'no-new-privileges'];

const podman = (...args: string[]): SpawnSyncReturns<string> =>
  spawnSync('podman', [...PODMAN, ...args], { encoding: 'utf8', timeout: 120_000 });
const ok = (r: SpawnSyncReturns<string>, what: string): string => {
  assert.equal(r.status, 0, `${what}: ${r.error?.message ?? ''}${r.stderr}${r.stdout}`);
  return r.stdout;
};
const which = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/**
 * Skips only when what the image needs is not on the machine (scripts/system-deps.sh installs it)
 * or the run is not root (debootstrap and the rootful podman). Where podman is present but does not
 * work, the test fails instead, so a broken setup never passes as a skip.
 */
const missing = (): string | false => {
  if (!BACKENDS.includes('postgres')) return 'the image test runs against the PostgreSQL server, and TENURE_TEST_BACKENDS leaves it out';
  if (process.getuid?.() !== 0) return 'building the image needs root (debootstrap, rootful podman)';
  const absent = ['podman', 'runc', 'debootstrap'].filter((tool) => !which(tool));
  return absent.length ? `${absent.join(', ')} not installed: run scripts/system-deps.sh` : false;
};

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch (error) { return (error as NodeJS.ErrnoException).code === 'EPERM'; }
};

/** Removes containers and volumes left by test processes that died before their cleanup ran. */
const sweepAbandoned = (): void => {
  const names = (kind: 'ps' | 'volume') => (kind === 'ps'
    ? podman('ps', '--all', '--filter', 'name=^tenure-image-test-', '--format', '{{.Names}}')
    : podman('volume', 'ls', '--filter', 'name=^tenure-image-test-', '--format', '{{.Name}}')).stdout.split('\n').filter(Boolean);
  const dead = (name: string) => !alive(Number(/^tenure-image-test-(\d+)/.exec(name)?.[1]));
  for (const name of names('ps').filter(dead)) podman('rm', '--force', '--volumes', name);
  for (const name of names('volume').filter(dead)) podman('volume', 'rm', '--force', name);
};

const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  }).on('error', reject);
});

/**
 * The image as an operator runs it: built by scripts/image.sh (from a debootstrap base, Node from
 * the npm registry and the packed tarball), started with a read-only root filesystem and a named
 * volume for the data, against a private database on the PostgreSQL server.
 */
describe('the container image', { skip: missing(), timeout: 900_000 }, () => {
  const name = `tenure-image-test-${process.pid}`;
  const volume = `${name}-data`;
  let database: { url: string; drop: () => Promise<void> };
  let port: number;
  // The signing key as docs/container.md says to give it: a file readable by the image's user,
  // mounted read-only, named by TENURE_AUDIT_KEY_FILE (a PEM does not fit in an --env-file).
  let keys: string;

  const start = (): void => {
    ok(podman('run', '--detach', '--name', name, ...RUN, ...HARDENED, '--volume', `${volume}:/var/lib/tenure`,
      '--volume', `${keys}:/run/secrets/tenure:ro`, '--env', 'TENURE_AUDIT_KEY_FILE=/run/secrets/tenure/audit-signing-key.pem',
      '--env', `DATABASE_URL=${database.url}`, '--env', `PORT=${port}`,
      // The image runs with NODE_ENV=production, which refuses to serve without an https public address.
      '--env', 'TENURE_PUBLIC_URL=https://tenure.example',
      // Checkpoints every half second, so that audit verify finds the events just made signed.
      '--env', 'TENURE_CHECKPOINT_INTERVAL_MS=500', IMAGE), 'podman run');
  };
  const exec = (...args: string[]) => podman('exec', name, ...args);
  const logs = () => { const r = podman('logs', name); return r.stdout + r.stderr; };
  const remove = () => podman('rm', '--force', '--volumes', '--time', '10', name);

  const ready = async (): Promise<void> => {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const status = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0);
      if (status === 200) return;
      const state = podman('inspect', '--format', '{{.State.Status}}', name).stdout.trim();
      if (state !== 'running') assert.fail(`the container is ${state}: ${logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.fail(`/readyz did not answer 200 within 90 s: ${logs()}`);
  };

  before(async () => {
    ok(podman('info', '--format', '{{.Host.OCIRuntime.Name}}'), 'podman info');
    sweepAbandoned();
    const build = spawnSync('bash', ['scripts/image.sh'], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
    assert.equal(build.status, 0, `scripts/image.sh: ${build.error?.message ?? ''}${build.stderr}`);
    keys = mkdtempSync(join(tmpdir(), 'tenure-image-keys-'));
    const keyFile = join(keys, 'audit-signing-key.pem');
    writeFileSync(keyFile, auditKeyEnv().TENURE_AUDIT_SIGNING_KEY, { mode: 0o600 });
    chownSync(keys, 10001, 10001);
    chownSync(keyFile, 10001, 10001);
    database = await createScratchDatabase();
    port = await freePort();
    remove();
    podman('volume', 'rm', '--force', volume);
    start();
    await ready();
  });
  after(async () => {
    remove();
    podman('volume', 'rm', '--force', volume);
    await database?.drop();
    if (keys) rmSync(keys, { recursive: true, force: true });
  });

  it('serves readyz against the PostgreSQL server, and its own health check passes', async () => {
    const body = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json() as { status: string };
    assert.equal(body.status, 'ready');
    // HEALTHCHECK survives the build only in the docker format; podman runs it on request.
    ok(podman('healthcheck', 'run', name), 'podman healthcheck run');
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i, 'the built web console is in the image');
  });

  it('runs as the unprivileged user 10001 without capabilities, on a root filesystem nothing can write to', () => {
    const status = ok(exec('cat', '/proc/1/status'), 'status of PID 1');
    assert.match(status, /^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
    assert.match(status, /^CapEff:\s+0+$/m);
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    assert.equal(ok(exec('id', '-u'), 'id').trim(), '10001');
    const write = exec('sh', '-c', 'echo x > /opt/tenure/written');
    assert.notEqual(write.status, 0);
    assert.match(write.stderr, /Read-only file system/);
    assert.notEqual(exec('touch', '/written').status, 0);
  });

  it('records what the CLI does inside it, and audit verify passes inside it', async () => {
    ok(exec('tenure', 'init', '--handle', 'ada', '--name', 'Ada Admin'), 'tenure init');
    ok(exec('tenure', '--as', 'ada', 'identity', 'create', '--handle', 'bob', '--name', 'Bob Builder', '--kind', 'employee'), 'identity create');
    // The server's worker signs the head within a checkpoint interval; verify wants it signed.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const verify = ok(exec('tenure', '--as', 'ada', 'audit', 'verify', '--strict'), 'audit verify');
    assert.match(verify, /^ok: \d+ events?, \d+ checkpoints? verified, anchored up to event \d+/m);
    // The anchor, outside the database, is in the volume: the only place the container writes.
    assert.match(ok(exec('ls', '/var/lib/tenure'), 'ls the volume'), /audit-checkpoints\.log/);
  });

  it('stops cleanly on SIGTERM, and a new container on the same volume and database verifies the same log', async () => {
    ok(podman('stop', '--time', '20', name), 'podman stop');
    assert.equal(podman('inspect', '--format', '{{.State.ExitCode}}', name).stdout.trim(), '0');
    remove();
    start();
    await ready();
    assert.match(ok(exec('tenure', '--as', 'ada', 'audit', 'verify', '--strict'), 'audit verify after a restart'), /^ok: /m);
  });
});
