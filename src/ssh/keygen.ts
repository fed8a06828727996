/**
 * The one way Tenure runs OpenSSH's `ssh-keygen`: by absolute path through `execFile` (never a
 * shell, arguments as an array), with a bare environment, a time limit, and its files in a private
 * temp dir that is removed afterwards. The certificate and KRL formats are OpenSSH's own; Tenure
 * never writes them by hand.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TenureError, type ErrorCode } from '../domain/errors.js';

export const SSH_KEYGEN = '/usr/bin/ssh-keygen';

/**
 * TZ=UTC: ssh-keygen reads `-V` times without a `Z` suffix, and prints `-L` times, in the system
 * time zone. Tenure always writes the `Z` suffix, and UTC here makes the read-back UTC too.
 * No DISPLAY, SSH_ASKPASS or agent socket: a passphrase-protected key fails instead of prompting.
 */
const KEYGEN_ENV = { PATH: '/usr/bin:/bin', TZ: 'UTC', LC_ALL: 'C' };
const KEYGEN_TIMEOUT_MS = 15_000;

export interface KeygenResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Long base64 runs are key material (public or private); messages never carry them, so a key
 * pasted in the wrong place, or anything ssh-keygen echoes, cannot reach a log through an error.
 */
export const redactKeyMaterial = (text: string): string =>
  text.replace(/[A-Za-z0-9+/=]{32,}/g, '[redacted]').trim().slice(0, 300);

/** Runs ssh-keygen; resolves with the exit code instead of rejecting, so callers read `-Q` answers. */
export const runKeygen = (args: string[]): Promise<KeygenResult> => new Promise((resolve, reject) => {
  const child = execFile(SSH_KEYGEN, args, { env: KEYGEN_ENV, timeout: KEYGEN_TIMEOUT_MS, maxBuffer: 1 << 20, encoding: 'utf8' },
    (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        const reason = error.killed ? `did not finish within ${KEYGEN_TIMEOUT_MS / 1000}s` : String(error.code ?? error.message);
        reject(new TenureError('internal', `ssh-keygen could not be run: ${redactKeyMaterial(reason)}`));
        return;
      }
      resolve({ exitCode: error ? Number(error.code) : 0, stdout, stderr });
    });
  // A closed stdin makes any passphrase prompt read end-of-file and fail at once.
  child.stdin?.end();
});

/** Runs ssh-keygen and refuses with `code` (message + ssh-keygen's redacted reason) when it fails. */
export const keygenOrRefuse = async (
  args: string[], refusal: { code: ErrorCode; message: string; field?: string },
): Promise<KeygenResult> => {
  const result = await runKeygen(args);
  if (result.exitCode !== 0) {
    const reason = redactKeyMaterial(result.stderr) || `exit ${result.exitCode}`;
    throw new TenureError(refusal.code, `${refusal.message} (ssh-keygen: ${reason})`, refusal.field === undefined ? {} : { field: refusal.field });
  }
  return result;
};

/** Gives `work` a fresh directory only this user can enter, removed afterwards whatever happens. */
export const withPrivateDir = async <T>(work: (dir: string) => Promise<T>): Promise<T> => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-ssh-'));
  try {
    return await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Writes a new file only its owner can read; `wx` refuses to follow or reuse anything already there. */
export const writePrivateFile = (path: string, text: string): void => {
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
};
