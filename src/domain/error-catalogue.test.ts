import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderErrorCatalogue } from './error-catalogue.js';
import { ERRORS } from './errors.js';

describe('the error catalogue', () => {
  it('docs/errors.md lists exactly the codes of the registry (run npm run docs:errors to refresh it)', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    assert.equal(doc, renderErrorCatalogue());
  });

  it('every code is namespaced and every refusal maps to a 4xx status; only failures of the service itself are 5xx', () => {
    const failures = new Set(['internal', 'service.not_ready', 'service.unavailable', 'server.unreachable', 'reconcile.target_unreachable', 'store.schema_newer']);
    for (const [code, entry] of Object.entries(ERRORS)) {
      assert.match(code, /^([a-z_]+\.[a-z_]+|internal)$/);
      if (failures.has(code)) assert.ok(entry.status >= 500, code);
      else assert.ok(entry.status >= 400 && entry.status < 500, code);
    }
  });
});
