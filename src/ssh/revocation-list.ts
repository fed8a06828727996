/**
 * The list of revoked key ids a KRL is rebuilt from, kept as JSON beside the KRL
 * (`<krl>.revoked.json`). The KRL format cannot be appended to by key id and read back as a list
 * in a stable form, so Tenure keeps its own list and rebuilds the whole KRL from it at every change.
 *
 * Several workers (in several processes) may revoke at once: each change reads the list, adds to
 * it, writes it and rebuilds the KRL under one lock (a directory made with mkdir, which is atomic),
 * so no revocation is lost to a concurrent one.
 *
 * Pruning: Tenure issues no certificate for a grant once it has ended, and no certificate lives
 * longer than MAX_CERTIFICATE_LIFETIME_MS, so a key id revoked longer ago than that (plus a margin
 * for clock skew) can only match certificates that have expired everywhere; it leaves the KRL.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TenureError } from '../domain/errors.js';
import { MAX_CERTIFICATE_LIFETIME_MS } from './certificate-authority.js';
import { buildKrl } from './krl.js';
import { checkKeyId } from './names.js';

const PRUNE_MARGIN_MS = 3_600_000;
const LOCK_WAIT_MS = 15_000;
/** A lock older than this was left by a process that died mid-change: no change takes nearly this long. */
const LOCK_STALE_MS = 60_000;

export interface RevokedKeyId {
  keyId: string;
  /** ISO 8601: when Tenure added it. */
  revokedAt: string;
}

interface ListFile { version: 1; revoked: RevokedKeyId[] }

export const revocationListPath = (krlPath: string): string => `${krlPath}.revoked.json`;

/** The revoked key ids; an absent file is an empty list (nothing revoked yet). */
export const readRevocationList = (krlPath: string): RevokedKeyId[] => {
  const path = revocationListPath(krlPath);
  if (!existsSync(path)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TenureError('internal', `the revocation list ${path} cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  const revoked = (parsed as Partial<ListFile>).revoked;
  if (!Array.isArray(revoked) || !revoked.every((e: Partial<RevokedKeyId>) => typeof e?.keyId === 'string' && typeof e.revokedAt === 'string')) {
    throw new TenureError('internal', `the revocation list ${path} is not a list Tenure wrote`);
  }
  return revoked;
};

/** Written beside and renamed, so a crash never leaves half a list. */
const writeRevocationList = (krlPath: string, revoked: RevokedKeyId[]): void => {
  const path = revocationListPath(krlPath);
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, `${JSON.stringify({ version: 1, revoked } satisfies ListFile, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` holding the KRL's lock; waits for another holder, and breaks a lock left by a dead process. */
export const withKrlLock = async <T>(krlPath: string, work: () => Promise<T>): Promise<T> => {
  const lock = `${krlPath}.lock`;
  for (const deadline = Date.now() + LOCK_WAIT_MS; ;) {
    try {
      mkdirSync(lock, { mode: 0o700 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = (() => { try { return Date.now() - statSync(lock).mtimeMs; } catch { return 0; } })();
      if (age > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new TenureError('internal', `the KRL ${krlPath} stayed locked for ${LOCK_WAIT_MS / 1000}s (${lock})`);
      else await sleep(20 + Math.random() * 30);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
};

export interface KrlChange {
  krlPath: string;
  /** Every CA public key sshd trusts: each KRL entry is written once per CA. */
  caPublicKeys: string[];
  /** Key ids to add; none: only rebuild (and prune). */
  add?: string[];
  now?: Date;
}

/**
 * Adds key ids to the list, drops entries old enough to prune, and rebuilds the KRL from the
 * result, all under the lock. Returns the key ids that were not in the list before.
 */
export const changeRevocations = (change: KrlChange): Promise<{ added: string[]; entries: number }> =>
  withKrlLock(change.krlPath, async () => {
    const now = change.now ?? new Date();
    const pruneBefore = now.getTime() - MAX_CERTIFICATE_LIFETIME_MS - PRUNE_MARGIN_MS;
    const current = readRevocationList(change.krlPath)
      .filter((entry) => new Date(entry.revokedAt).getTime() >= pruneBefore);
    const known = new Set(current.map((entry) => entry.keyId));
    const added = [...new Set(change.add ?? [])].map((keyId) => checkKeyId(keyId)).filter((keyId) => !known.has(keyId));
    const revoked = [...current, ...added.map((keyId) => ({ keyId, revokedAt: now.toISOString() }))];
    // The list first: were the KRL written first and the list not, a later rebuild would drop the entry.
    writeRevocationList(change.krlPath, revoked);
    await buildKrl({ caPublicKeys: change.caPublicKeys, revoked: revoked.map(({ keyId }) => ({ keyId })), outPath: change.krlPath });
    return { added, entries: revoked.length };
  });
