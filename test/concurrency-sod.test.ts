import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq, inArray } from 'drizzle-orm';
import { DecisionService } from '../src/decision/service.js';
import { TenureError } from '../src/domain/errors.js';
import { approveRequest } from '../src/operations/approve-request.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { createRequest } from '../src/operations/create-request.js';
import type { Store } from '../src/store/database.js';
import { entitlements, grants, identities } from '../src/store/schema.js';
import { freshStore } from './support/backends.js';
import { buildWorld, type World } from './support/world.js';

const PEOPLE = 10;
const ROUNDS = 4;
const ROUND_BUDGET_MS = 60_000;

/** What a call at once with others came to: its answer, or the error code it was refused with (or the raw error). */
type Outcome = { ok: true } | { ok: false; code: string };
const settle = async (call: () => Promise<unknown>): Promise<Outcome> => {
  try {
    await call();
    return { ok: true };
  } catch (error) {
    if (error instanceof TenureError) return { ok: false, code: error.code };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, code: `unexpected ${cause?.code ?? ''} ${cause?.message ?? String(error)}` };
  }
};

const withinBudget = async <T>(work: Promise<T>, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${ROUND_BUDGET_MS} ms`)), ROUND_BUDGET_MS); });
  try { return await Promise.race([work, timeout]); } finally { clearTimeout(timer); }
};

/** New employees managed by Sam, so each request's first stage is Sam's and the last a system owner's. */
const hire = async (w: World, prefix: string): Promise<string[]> => {
  const handles = Array.from({ length: PEOPLE }, (_, i) => `${prefix}-${i}`);
  const ada = await w.as('ada');
  for (const handle of handles) await createIdentity(ada, { handle, displayName: handle, kind: 'employee', manager: 'sam' });
  return handles;
};

/** Files the request as the person and has Sam approve the sponsor stage: only the final approval is left. */
const pendingAtFinalStage = async (w: World, handle: string, entitlement: string): Promise<string> => {
  const request = await createRequest(await w.as(handle), { entitlement, justification: 'quarter close', duration: '1d', ticket: 'FIN-1' });
  const first = await approveRequest(await w.as('sam'), { request: request.id });
  assert.equal(first.status, 'pending', 'the system owner stage is still to come');
  return request.id;
};

const liveKeys = async (store: Store, handles: string[]): Promise<Map<string, string[]>> => {
  const rows = await store.db.select({ handle: identities.handle, key: entitlements.key }).from(grants)
    .innerJoin(identities, eq(identities.id, grants.identityId)).innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
    .where(and(inArray(identities.handle, handles), inArray(grants.status, ['scheduled', 'active'])));
  const held = new Map<string, string[]>(handles.map((h) => [h, []]));
  for (const row of rows) held.get(row.handle)!.push(row.key);
  return held;
};

/** Concurrency is only meaningful with several connections: these run on the PostgreSQL server. */
describe('separation of duties and suspension under concurrent calls on the PostgreSQL server', { skip: process.env.TENURE_TEST_BACKENDS === 'embedded' }, () => {
  let store: Store;
  let w: World;
  let decisions: DecisionService;
  before(async () => {
    store = await freshStore('postgres', { poolSize: 16 });
    w = await buildWorld(store);
    decisions = await DecisionService.start({ store, clock: w.clock, poll: false });
  });
  after(async () => {
    await decisions.stop();
    await store.close();
  });

  it('final approvals of two conflicting requests arriving at once give each person one of the two, never both, and the other is refused as a conflict', async () => {
    const broken: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const handles = await hire(w, `sod${round}`);
      const pairs = [];
      for (const handle of handles) {
        pairs.push({ handle, initiate: await pendingAtFinalStage(w, handle, 'payments/initiate'), approve: await pendingAtFinalStage(w, handle, 'payments/approve') });
      }
      const olivia = await w.as('olivia');
      const tom = await w.as('tom');
      const outcomes = await withinBudget(Promise.all(pairs.map(async (p) => ({
        handle: p.handle,
        results: await Promise.all([
          settle(() => approveRequest(olivia, { request: p.initiate })),
          settle(() => approveRequest(tom, { request: p.approve })),
        ]),
      }))), `round ${round}`);
      const held = await liveKeys(store, handles);
      await decisions.sync();
      for (const { handle, results } of outcomes) {
        const keys = [...held.get(handle)!].sort();
        if (keys.length === 2) broken.push(`round ${round}: ${handle} holds both sides of payments-maker-checker`);
        const allowed = ['payments/initiate', 'payments/approve']
          .filter((entitlement) => decisions.check({ identity: handle, entitlement, context: { ticket: 'FIN-1' } }).decision === 'allow');
        if (allowed.length !== 1) broken.push(`round ${round}: the decision point allows ${handle} ${allowed.length} of the two`);
        if (results.filter((r) => r.ok).length !== 1) broken.push(`round ${round}: ${results.filter((r) => r.ok).length} of ${handle}'s two approvals issued a grant`);
        for (const refused of results.filter((r): r is { ok: false; code: string } => !r.ok && r.code !== 'request.sod_conflict')) {
          broken.push(`round ${round}: ${handle}'s other approval was refused with ${refused.code}, not request.sod_conflict`);
        }
      }
    }
    assert.deepEqual(broken, [], `${broken.length} broken guarantee(s) over ${ROUNDS} rounds of ${PEOPLE} people`);
  });

  it('a suspension racing the final approvals always ends with the person suspended and holding nothing, and no caller sees a deadlock or a 500', async () => {
    const broken: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const handles = await hire(w, `susp${round}`);
      const pending = [];
      for (const handle of handles) {
        pending.push({ handle, read: await pendingAtFinalStage(w, handle, 'payments/read'), crm: await pendingAtFinalStage(w, handle, 'crm/read') });
      }
      const [olivia, tom, ivan] = [await w.as('olivia'), await w.as('tom'), await w.as('ivan')];
      const outcomes = await withinBudget(Promise.all(pending.map(async (p) => {
        const [read, crm, suspension] = await Promise.all([
          settle(() => approveRequest(olivia, { request: p.read })),
          settle(() => approveRequest(tom, { request: p.crm })),
          settle(() => changeIdentityStatus(ivan, { identity: p.handle, status: 'suspended', reason: 'left the company' })),
        ]);
        return { handle: p.handle, approvals: [read, crm], suspension };
      })), `round ${round}`);
      for (const { handle, approvals, suspension } of outcomes) {
        if (!suspension.ok) broken.push(`round ${round}: the suspension of ${handle} failed: ${suspension.code.slice(0, 120)}`);
        for (const approval of approvals.filter((a): a is { ok: false; code: string } => !a.ok && a.code !== 'request.not_pending')) {
          broken.push(`round ${round}: an approval for ${handle} failed with ${approval.code.slice(0, 120)}`);
        }
      }
      const people = await store.db.select({ id: identities.id, handle: identities.handle, status: identities.status })
        .from(identities).where(inArray(identities.handle, handles));
      for (const person of people.filter((p) => p.status !== 'suspended')) broken.push(`round ${round}: ${person.handle} is still ${person.status}`);
      const live = await store.db.select({ id: grants.id, identityId: grants.identityId }).from(grants)
        .where(and(inArray(grants.identityId, people.map((p) => p.id)), inArray(grants.status, ['scheduled', 'active'])));
      for (const grant of live) broken.push(`round ${round}: grant ${grant.id} is live for ${people.find((p) => p.id === grant.identityId)?.handle}`);
    }
    assert.deepEqual(broken, [], `${broken.length} broken guarantee(s) over ${ROUNDS} rounds of ${PEOPLE} people`);
  });
});
