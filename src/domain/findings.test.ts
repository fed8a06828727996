import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FINDING_FRAMEWORKS, FINDING_KINDS, NIST_CSF, OWASP_NHI } from './findings.js';

describe('findings and the frameworks they are evidence for', () => {
  it('every kind of finding names at least one NIST CSF 2.0 outcome, and only items the catalogue defines', () => {
    for (const kind of Object.keys(FINDING_KINDS) as (keyof typeof FINDING_KINDS)[]) {
      const mapping = FINDING_FRAMEWORKS[kind];
      assert.ok(mapping.nistCsf.length > 0, `${kind} maps to no NIST CSF outcome`);
      for (const item of mapping.nistCsf) assert.ok(Object.hasOwn(NIST_CSF, item), `${kind}: ${item}`);
      for (const item of mapping.owaspNhi) assert.ok(Object.hasOwn(OWASP_NHI, item), `${kind}: ${item}`);
    }
  });

  it('access that outlived its owner is filed under improper offboarding', () => {
    for (const kind of ['orphan_account', 'access_of_inactive_identity', 'access_without_grant'] as const) {
      assert.ok(FINDING_FRAMEWORKS[kind].owaspNhi.includes('NHI1:2025'), kind);
    }
  });
});
