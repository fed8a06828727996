import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';
import { generateClientSchema, SCHEMA_FILE } from '../scripts/web-client.js';

it('the web console\'s typed client matches the API\'s OpenAPI document', async () => {
  const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
  const current = await generateClientSchema();
  // A diff of thousands of lines helps nobody: say what to run.
  assert.ok(committed === current, 'web/src/api/schema.d.ts does not match the API: run npm run web:client');
});
