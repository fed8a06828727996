/** What every test harness that starts a real server needs: a free port, and a way to stop it and clean up. */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';

/** Asks the kernel for a free port; the tiny window before the server binds it is acceptable in tests. */
export const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const server = createServer();
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
  });
});

/**
 * Stops `child` with `signal` (each server's clean or fast shutdown), SIGKILL if it is still there
 * after five seconds, then removes its directory. Also stops it if the test process exits first.
 */
export const stopper = (child: ChildProcess, dir: string, signal: NodeJS.Signals) => {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    // 'close' rather than 'exit': it comes after stderr is drained, so a failure message is complete.
    child.once('close', () => resolve());
    // A server that could not be spawned at all may never emit 'close'.
    child.once('error', () => resolve());
  });
  const kill = () => { child.kill(signal); };
  process.once('exit', kill);
  return async () => {
    process.removeListener('exit', kill);
    kill();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
};

/** Polls `probe` every `everyMs` for at most `ms` (a probe that throws counts as not yet); throws naming `what` otherwise. */
export const until = async (ms: number, what: string, probe: () => Promise<boolean>, everyMs = 100): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
};
