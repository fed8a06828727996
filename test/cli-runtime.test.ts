import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { Runtime } from '../src/cli/runtime.js';

describe('the CLI runtime', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-runtime-'));
  const saved = { TENURE_DATA_DIR: process.env.TENURE_DATA_DIR, DATABASE_URL: process.env.DATABASE_URL, TENURE_SERVER: process.env.TENURE_SERVER };
  after(() => {
    for (const [name, value] of Object.entries(saved)) if (value === undefined) delete process.env[name]; else process.env[name] = value;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('opens the embedded database once when several callers ask at the same moment', async () => {
    Object.assign(process.env, { TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_SERVER: '' });
    const rt = new Runtime(new Command('tenure'));
    // Three first calls at once: opening twice would find the data directory locked by the first.
    const [a, b, c] = await Promise.all([rt.open(), rt.open(), rt.system('worker')]);
    assert.equal(a, b);
    assert.equal(a, c.store);
    await rt.close();
    // Closed and let go: the directory opens again in this process.
    const again = new Runtime(new Command('tenure'));
    await again.open();
    await again.close();
  });
});
