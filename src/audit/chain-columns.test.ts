import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalEvent } from './chain.js';
import { groupColumnsMatch } from './chain-columns.js';
import type { AuditInput } from './event-types.js';

const IDENTITY = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';
const SYSTEM = '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d';
const AT = new Date('2030-01-01T09:00:00.123Z');

/** One event as a group holds it (a 64-character hash, then the canonical text) and its line of columns. */
const group = (input: Partial<AuditInput>, columns: Partial<Record<'identity' | 'occurred', string>> = {}): [string, string] => {
  const event = canonicalEvent(7, AT, { id: undefined, channel: 'worker' }, {
    action: 'grant.expired', subject: { type: 'grant', id: 'g-1' }, identityId: IDENTITY, systemId: SYSTEM, ...input,
  });
  const line = ['grant.expired', 'worker', '', 'grant', 'g-1', columns.identity ?? IDENTITY, SYSTEM, columns.occurred ?? '2030-01-01T09:00:00.123000'];
  return [`${'0'.repeat(64)}${event}`, line.join('\t')];
};

describe('the fast comparison of audit columns with the hashed event', () => {
  it('matches an event whose columns say what its canonical text says', () => {
    assert.equal(groupColumnsMatch(...group({ before: { status: 'active' }, reason: 'ended' }), 1, 7), true);
  });

  it('does not match when a column was rewritten', () => {
    assert.equal(groupColumnsMatch(...group({}, { identity: SYSTEM }), 1, 7), false);
    assert.equal(groupColumnsMatch(...group({}, { occurred: '2030-01-01T09:00:00.124000' }), 1, 7), false);
  });

  it('leaves an event with a nested "at" member to the exact path, whichever member holds it', () => {
    for (const input of [{ after: { at: '2030-01-01T09:00:00.123Z' } }, { before: { at: 1 } }, { data: { at: 'x' } }]) {
      assert.equal(groupColumnsMatch(...group(input), 1, 7), false, JSON.stringify(input));
    }
  });
});
