import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { applyPolicy } from '../src/operations/apply-policy.js';
import { planPolicy } from '../src/operations/plan-policy.js';
import { freshStore } from './support/backends.js';
import { breakGlassPolicy } from './support/break-glass-policy.js';
import { buildWorld, type World } from './support/world.js';

/**
 * `policy plan` is complete: for a base policy with every section, any set of changes that alters
 * what the policy means shows in the plan, and a rewrite that means the same (sections reordered, an
 * unused group) plans nothing; once applied, planning the same policy again shows nothing.
 */
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a YAML document edited in place

const base = (): Doc => {
  const doc = parse(breakGlassPolicy()) as Doc;
  doc.access_profiles = { finance: { match: { department: ['Finance'] }, entitlements: ['payments/read'] } };
  doc.hr = { brake: { share: '5%', minimum: 5 }, reassign_within: '14d' };
  doc.reviews = { event_due_in: '7d', campaigns: { quarterly: { grants: 'non_employee', reviewer: 'sponsor', every: '90d', due_in: '14d' } } };
  doc.credentials = { api_key: { rotation: '90d' } };
  doc.provisioning = { max_attempts: 5 };
  doc.evidence = { 'privileged-change': { when: { tier: ['privileged'] }, ticket: true } };
  return doc;
};

/** Changes that each alter what the policy means, one per section the plan once left out, and a few it always showed. */
const MEANINGFUL: [string, (d: Doc) => void][] = [
  ['an access profile gives more', (d) => { d.access_profiles.finance.entitlements.push('crm/read'); }],
  ['a new access profile', (d) => { d.access_profiles.sales = { match: { department: ['Sales'] }, entitlements: ['crm/read'] }; }],
  ['break-glass users change', (d) => { d.break_glass.users = ['eve']; }],
  ['break-glass reviewers change', (d) => { d.break_glass.reviewers = ['ivan']; }],
  ['break-glass ttl shortens', (d) => { d.break_glass.max_ttl = '1h'; }],
  ['an entitlement becomes break-glass capable', (d) => { d.systems.lab.entitlements.use.break_glass = true; }],
  ['a group used by a role changes', (d) => { d.groups.secops.push('tom'); }],
  ['the HR brake changes', (d) => { d.hr.brake.minimum = 9; }],
  ['HR accepts only one source', (d) => { d.hr.sources = ['workday']; }],
  ['a review campaign runs more often', (d) => { d.reviews.campaigns.quarterly.every = '30d'; }],
  ['a new review campaign', (d) => { d.reviews.campaigns.privileged = { grants: 'privileged', reviewer: 'system_owner', every: '30d', due_in: '7d' }; }],
  ['api keys rotate sooner', (d) => { d.credentials.api_key.rotation = '30d'; }],
  ['provisioning retries fewer times', (d) => { d.provisioning.max_attempts = 3; }],
  ['a shared-account pattern is added', (d) => { d.provisioning.shared_account_patterns = ['^svc-']; }],
  ['an approver rule is switched off', (d) => { d.approval.rules = { not_same_vendor: false }; }],
  ['an evidence rule asks for more', (d) => { d.evidence['privileged-change'].min_justification = 30; }],
  ['a duration shortens', (d) => { d.durations.privileged.default = '4h'; }],
];

/** Rewrites that mean the same. */
const SAME: [string, (d: Doc) => Doc][] = [
  ['sections in reverse order', (d) => Object.fromEntries(Object.entries(d).reverse())],
  ['a group nobody uses', (d) => ({ ...d, groups: { ...d.groups, unused: ['tom'] } })],
];

describe('policy plan shows every change to every section, and nothing when the meaning is the same (embedded)', () => {
  let w: World;
  const files = (doc: Doc) => ({ files: [{ name: 'policy.yaml', content: stringify(doc) }] });
  const plan = async (doc: Doc) => planPolicy(await w.as('ada'), files(doc));

  before(async () => {
    w = await buildWorld(await freshStore('embedded'));
    await applyPolicy(await w.as('ada'), files(base()));
  });
  after(async () => { await w?.store.close(); });

  it('after apply, planning the same policy shows nothing, and neither does a rewrite that means the same', async () => {
    assert.deepEqual((await plan(base())).lines, []);
    for (const [name, rewrite] of SAME) assert.deepEqual((await plan(rewrite(base()))).lines, [], name);
  });

  it('any non-empty set of meaningful changes shows in the plan, whichever are combined', async () => {
    await fc.assert(fc.asyncProperty(fc.subarray(MEANINGFUL, { minLength: 1 }), fc.boolean(), async (changes, reorder) => {
      let doc = base();
      for (const [, change] of changes) change(doc);
      if (reorder) doc = SAME[0]![1](doc);
      const result = await plan(doc);
      assert.ok(result.changed && result.lines.length >= 1, `no change planned for: ${changes.map(([name]) => name).join(', ')}`);
    }), { numRuns: 30, seed: 20261206 });
  });

  it('each meaningful change alone shows in the plan', async () => {
    for (const [name, change] of MEANINGFUL) {
      const doc = base();
      change(doc);
      assert.ok((await plan(doc)).changed, `no change planned for: ${name}`);
    }
  });
});
