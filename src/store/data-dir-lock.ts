import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { TenureError } from '../domain/errors.js';

interface Holder { pid: number; host: string; command: string; since: string }

/** A process still running on this host holds the lock; a dead one's lock is stale and taken over. */
const isAlive = (holder: Holder): boolean => {
  if (holder.host !== hostname()) return true; // cannot tell for another host: assume it lives
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const readHolder = (path: string): Holder | undefined => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
};

export interface DataDirLock { release(): void }

/**
 * PGlite belongs to one process: a second process opening the same directory would corrupt it.
 * The lock file is created with O_EXCL so two starters cannot both win.
 */
export const acquireDataDirLock = (dataDir: string): DataDirLock => {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'tenure.lock');
  const me: Holder = {
    pid: process.pid, host: hostname(), command: process.argv.slice(1).join(' '), since: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return { release: () => { if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true }); } };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(path);
      if (holder && holder.pid !== process.pid && isAlive(holder)) {
        throw new TenureError('database.held',
          `the embedded database in ${dataDir} is held by process ${holder.pid} on ${holder.host} ` +
          `(${holder.command}) since ${holder.since}; stop it, or talk to it with --server once it serves the API`);
      }
      rmSync(path, { force: true }); // stale lock of a dead process, or an unreadable half-written one
    }
  }
  throw new TenureError('database.held', `could not take the lock ${path} (user ${userInfo().username})`);
};
