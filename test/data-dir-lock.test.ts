import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TenureError } from '../src/domain/errors.js';
import { acquireDataDirLock } from '../src/store/data-dir-lock.js';

const dir = () => mkdtempSync(join(tmpdir(), 'tenure-lock-'));
const holder = (pid: number) => JSON.stringify({ pid, host: hostname(), command: 'tenure serve', since: '2030-01-01T00:00:00Z' });

describe('one process per embedded database', () => {
  it('a second process is refused with a message naming the holder', async () => {
    const d = dir();
    const sleeper = spawn('sleep', ['30']);
    try {
      writeFileSync(join(d, 'tenure.lock'), holder(sleeper.pid!));
      assert.throws(() => acquireDataDirLock(d), (e: unknown) =>
        e instanceof TenureError && e.code === 'database.held' && e.message.includes(String(sleeper.pid)) && e.message.includes('tenure serve'));
    } finally {
      sleeper.kill();
    }
  });

  it('the stale lock of a dead process is taken over', async () => {
    const d = dir();
    const done = spawn('true');
    await new Promise((resolve) => done.on('exit', resolve));
    writeFileSync(join(d, 'tenure.lock'), holder(done.pid!));
    const lock = acquireDataDirLock(d);
    assert.equal(JSON.parse(readFileSync(join(d, 'tenure.lock'), 'utf8')).pid, process.pid);
    lock.release();
  });

  it('releasing the lock lets the next process in', () => {
    const d = dir();
    acquireDataDirLock(d).release();
    acquireDataDirLock(d).release();
  });
});
