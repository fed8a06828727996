/** `tenure serve` and `tenure worker` as real child processes, and HTTP calls that record how each ended. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const TENURE_BIN = fileURLToPath(new URL('../../bin/tenure.mjs', import.meta.url));
/** Enough of a process's stderr to explain a failure; serve logs every request, so not all of it. */
const LOG_TAIL = 20_000;

export interface TenureProcess {
  child: ChildProcess;
  /** For serve: the URL it listens on. */
  url: string;
  alive(): boolean;
  /** The end of what it wrote to stderr, and how it exited if it did. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts `tenure <args>` and resolves once `ready` matches its stderr (within a minute). */
export const startTenure = (args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<TenureProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TENURE_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let tail = '';
    let exit = '';
    let started = false;
    const log = () => `${tail}${exit}`;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`tenure ${args.join(' ')} did not start: ${log()}`)); }, 60_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      tail = (tail + String(chunk)).slice(-LOG_TAIL);
      const match = started ? null : ready.exec(tail);
      if (!match) return;
      started = true;
      clearTimeout(timer);
      resolve({
        child, url: match[1] ?? '', log,
        alive: () => child.exitCode === null && child.signalCode === null,
        stop: () => new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) { done(); return; }
          const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('close', () => { clearTimeout(kill); done(); });
          child.kill('SIGTERM');
        }),
      });
    });
    child.on('exit', (code, signal) => {
      exit = `\n[exited with ${code ?? signal}]`;
      if (!started) { clearTimeout(timer); reject(new Error(`tenure ${args.join(' ')} exited before it was ready: ${log()}`)); }
    });
  });

export type Kind = 'read' | 'check' | 'write';

export interface Outcome {
  kind: Kind;
  /** The HTTP status, or how the call failed without one. */
  status: number | 'dropped' | 'hung';
  retryAfter: string | null;
  code: string | undefined;
  ms: number;
  detail: string;
}

let writes = 0;

/**
 * One API call of `kind` as the holder of `token`: a read (identities), a check (the decision point)
 * or a write (a new identity, with an Idempotency-Key as a careful client sends). `bound` is how long
 * the caller waits before calling it hung.
 */
export const callTenure = async (base: string, token: string, kind: Kind, bound: number, checkIdentity = 'carl'): Promise<Outcome> => {
  const started = Date.now();
  writes += 1;
  const request = {
    read: { method: 'GET', path: '/v1/identities?limit=5', body: undefined },
    check: { method: 'POST', path: '/v1/check', body: { identity: checkIdentity, entitlement: 'payments/read' } },
    write: { method: 'POST', path: '/v1/identities', body: { handle: `w${process.pid}-${writes}-${started}`, displayName: 'Written under fault', kind: 'employee', manager: 'sam' } },
  }[kind];
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (request.body) headers['content-type'] = 'application/json';
  if (kind === 'write') headers['idempotency-key'] = `fault-${process.pid}-${writes}-${started}`;
  try {
    const res = await fetch(`${base}${request.path}`, {
      method: request.method, headers, signal: AbortSignal.timeout(bound),
      ...(request.body ? { body: JSON.stringify(request.body) } : {}),
    });
    const text = await res.text();
    let code: string | undefined;
    try { code = (JSON.parse(text) as { code?: string }).code; } catch { code = undefined; }
    return { kind, status: res.status, retryAfter: res.headers.get('retry-after'), code, ms: Date.now() - started, detail: text.slice(0, 300) };
  } catch (error) {
    const hung = (error as Error).name === 'TimeoutError';
    return { kind, status: hung ? 'hung' : 'dropped', retryAfter: null, code: undefined, ms: Date.now() - started, detail: String((error as Error).cause ?? error) };
  }
};

/** What a client may get while the database is in trouble: a success, or 503 with Retry-After. */
export const acceptable = (o: Outcome): boolean =>
  (typeof o.status === 'number' && o.status >= 200 && o.status < 300) || (o.status === 503 && o.retryAfter !== null);

export const succeeded = (o: Outcome): boolean => typeof o.status === 'number' && o.status >= 200 && o.status < 300;
