import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TENURE_BIN } from './tenure-process.js';

export interface CliRun { code: number | null; out: string; err: string }

/**
 * The CLI in server mode as a real child process, as the owner of `token`. Spawned asynchronously,
 * so a server in the test's own process keeps answering. The data directory is never created:
 * server mode must not open a database.
 */
export const serverCli = (serverUrl: () => string) => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'tenure-cli-')), 'never-created');
  return (token: string, ...args: string[]) => new Promise<CliRun>((resolve, reject) => {
    const env = { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_ACTOR: '', TENURE_SERVER: '', TENURE_TOKEN: token };
    const child = spawn(process.execPath, [TENURE_BIN, '--server', serverUrl(), ...args], { env, timeout: 120_000 });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
};
