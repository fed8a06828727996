import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderPass } from './pass.js';
import { renderRequest, type RequestShown } from './request.js';

const widest = (text: string) => Math.max(...text.split('\n').map((line) => line.length));

const REQUEST: RequestShown = {
  id: '254575fb-452e-430f-9940-f7af813bc84e', kind: 'new', status: 'pending', requester: 'carl', beneficiary: 'carl',
  entitlement: 'payments/read', tier: 'read', justification: 'Reconcile the March batches, every one of them, against the ledger '.repeat(3),
  ticket: 'FIN-101', startsAt: '2026-12-05T08:39:12.019Z', endsAt: '2026-12-05T08:41:12.019Z', outOfScope: false,
  expiresAt: new Date('2026-12-12T08:39:12.019Z'), grantId: null, createdAt: '2026-12-05T08:39:12.019Z', warnings: [],
  stages: [
    { position: 0, kind: 'sponsor', status: 'approved', approvers: ['sam'], decidedBy: 'sam', decidedAt: '2026-12-05T08:40:00.000Z', comment: 'needed for the migration' },
    { position: 1, kind: 'system_owner', status: 'pending', approvers: ['olivia', 'tom', 'ivan', 'someone-with-a-long-handle'], decidedBy: null, decidedAt: null, comment: null },
  ],
};

const PASS = {
  grantsActivated: 0, grantsExpired: 1, requestsExpired: 0, engagementsEnded: 0, vendorsEnded: 0, checkOutsGiven: 0,
  hr: { due: 0, endDates: 0, ownership: { resolved: 0, suspended: 2 } },
  provisioning: { superseded: 0, held: 0, done: 0, failed: 0, tasksOpened: 1, overdueTasks: 0 },
  reconciliation: { reconciled: [{ system: 'payments', drift: { orphan_account: 1 } }], errors: [] },
  credentialFindings: { opened: 0, closed: 0 },
  reviews: { closed: { closed: 0 }, scheduled: { opened: [], errors: [{ key: 'quarterly', error: 'no reviewer' }] } },
};

describe('the CLI\'s readable views', () => {
  it('a request shows as key/value lines and a stages table that fit 100 columns, without JSON', () => {
    const text = renderRequest(REQUEST);
    assert.ok(widest(text) <= 100, text);
    assert.doesNotMatch(text, /\{"/);
    assert.match(text, /window\s+2026-12-05T08:39:12Z to 2026-12-05T08:41:12Z \(2 minutes\)/);
    assert.match(text, /│ 1 │ sponsor\s+│ approved │ sam/);
    assert.match(text, /lapses at\s+2026-12-12T08:39:12Z if still undecided/);
  });
  it('a worker pass lists only what happened, one line a part, in words', () => {
    const text = renderPass(PASS);
    assert.doesNotMatch(text, /[{}]/);
    assert.ok(widest(text) <= 100, text);
    assert.match(text, /lifecycle\s+grants expired 1\n/);
    assert.match(text, /hr\s+ownership suspended 2\n/);
    assert.match(text, /provisioning\s+tasks opened 1\n/);
    assert.match(text, /reconciliation\s+reconciled: payments \(drift orphan account 1\)/);
    assert.match(text, /reviews\s+scheduled errors: quarterly: no reviewer/);
    assert.doesNotMatch(text, /credential/, 'a part with nothing done is left out');
  });
  it('a pass with nothing due says so in one line', () => {
    assert.equal(renderPass({ grantsExpired: 0, hr: { due: 0 } }), 'Worker pass done: nothing was due.\n');
  });
});
