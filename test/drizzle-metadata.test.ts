import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import config from '../drizzle.config.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const migrations = join(root, 'src/store/migrations');
const drizzleKit = join(dirname(createRequire(import.meta.url).resolve('drizzle-kit')), 'bin.cjs');

interface Journal { entries: { idx: number; tag: string }[] }
const journalOf = (dir: string): Journal => JSON.parse(readFileSync(join(dir, 'meta/_journal.json'), 'utf8')) as Journal;

/**
 * `drizzle-kit generate` compares the schema with the newest snapshot in migrations/meta. When a
 * migration is written by hand, or its snapshot is not kept, the next generate repeats old changes
 * in a new migration. It runs here against a copy of the folder (it writes when it finds a change).
 */
const generateInCopy = async (): Promise<{ stdout: string; added: string[]; sql: string }> => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-drizzle-'));
  try {
    cpSync(migrations, join(dir, 'migrations'), { recursive: true });
    const schema = [config.schema ?? []].flat().map((path) => resolve(root, path));
    // drizzle-kit reads `out` relative to the working directory, so the copy is the working directory.
    writeFileSync(join(dir, 'drizzle.config.ts'), `export default ${JSON.stringify({ dialect: config.dialect, schema, out: './migrations' })};\n`);
    const { stdout } = await promisify(execFile)(process.execPath, [drizzleKit, 'generate', '--config', 'drizzle.config.ts'],
      { cwd: dir, timeout: 60_000 });
    const before = new Set(readdirSync(migrations));
    const added = readdirSync(join(dir, 'migrations')).filter((name) => !before.has(name));
    const sql = added.filter((name) => name.endsWith('.sql')).map((name) => readFileSync(join(dir, 'migrations', name), 'utf8')).join('\n');
    return { stdout, added, sql };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

describe('drizzle-kit metadata', () => {
  it('the drizzle schema and the migrations agree: drizzle-kit generate finds nothing to migrate', async () => {
    const { stdout, added, sql } = await generateInCopy();
    assert.deepEqual(added, [], `drizzle-kit generate wrote a migration; make the change a migration, or (when one already does it by hand) keep its snapshot:\n${sql}`);
    assert.match(stdout, /No schema changes/);
  });

  it('the journal lists every migration file, and the newest snapshot is that of its last migration', () => {
    const journal = journalOf(migrations);
    const files = readdirSync(migrations);
    const tags = journal.entries.map((entry) => entry.tag);
    for (const tag of tags) assert.ok(files.includes(`${tag}.sql`), `${tag}.sql is in the journal but not in the folder`);
    // The migrator runs only what the journal lists: a file it leaves out would never be applied.
    for (const file of files.filter((name) => name.endsWith('.sql'))) assert.ok(tags.includes(file.replace(/\.sql$/, '')), `${file} is not in the journal`);
    const snapshots = readdirSync(join(migrations, 'meta')).filter((name) => name.endsWith('_snapshot.json')).sort();
    const last = journal.entries.at(-1)!;
    assert.equal(snapshots.at(-1), `${last.tag.split('_')[0]}_snapshot.json`);
  });
});
