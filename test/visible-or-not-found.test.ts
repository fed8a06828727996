import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TenureError } from '../src/domain/errors.js';
import { approveRequest } from '../src/operations/approve-request.js';
import { cancelRequest } from '../src/operations/cancel-request.js';
import { createRequest } from '../src/operations/create-request.js';
import { renewEngagement } from '../src/operations/renew-engagement.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { showEngagement } from '../src/operations/show-engagement.js';
import { showRequest } from '../src/operations/list-requests.js';
import type { Context } from '../src/work/context.js';
import type { Store } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { buildWorld, DAY, type World } from './support/world.js';

/**
 * "A request that isn't yours does not exist for you", across everyone in the world and every path
 * that shows or acts on one object. Carl (contractor, sponsored by Sam) asked for payments/read and
 * withdrew the request, and gave up a grant: so each path that lets the caller through then stops at
 * its next rule (not pending, already ended, a renewal that ends too early) and nothing changes.
 * Cast: Ada admin, Ivan IAM, Selma security, Audrey auditor, Olivia and Tom own payments, Eve an
 * employee, Vera a vendor operator Sam also sponsors, `bot` a service account Tom owns.
 */
const CAST = ['ada', 'ivan', 'selma', 'audrey', 'sam', 'olivia', 'tom', 'carl', 'eve', 'vera', 'bot'] as const;
type Handle = typeof CAST[number];

type Objects = { request: string; grant: string; engagement: string; currentEnd: Date };
interface Path {
  name: string;
  /** The caller's outcome: 'ok', or the refusal's code. */
  expect: Record<Handle, string>;
  run(ctx: Context, o: Objects, id?: string): Promise<unknown>;
  /** The object's id, swapped for an unknown one to compare an outsider's answer with. */
  idOf(o: Objects): string;
}

const table = (rows: [string, Handle[]][]): Record<Handle, string> => {
  const expect = Object.fromEntries(rows.flatMap(([outcome, handles]) => handles.map((h) => [h, outcome])));
  assert.deepEqual(Object.keys(expect).sort(), [...CAST].sort(), 'every row names everyone once');
  return expect as Record<Handle, string>;
};

const PATHS: Path[] = [
  {
    name: 'showing the request', idOf: (o) => o.request, run: (ctx, o, id) => showRequest(ctx, id ?? o.request),
    expect: table([['ok', ['carl', 'sam', 'olivia', 'tom', 'audrey', 'selma', 'ivan', 'ada']], ['request.not_found', ['eve', 'vera', 'bot']]]),
  },
  {
    name: 'cancelling the request', idOf: (o) => o.request, run: (ctx, o, id) => cancelRequest(ctx, { request: id ?? o.request, reason: 'probe' }),
    // Approvers may see the request but not withdraw it, and are told, like any outsider, that it does not exist.
    expect: table([['request.not_pending', ['carl', 'ivan', 'ada']], ['actor.forbidden', ['audrey', 'selma']],
      ['request.not_found', ['sam', 'olivia', 'tom', 'eve', 'vera', 'bot']]]),
  },
  {
    name: 'deciding the request', idOf: (o) => o.request, run: (ctx, o, id) => approveRequest(ctx, { request: id ?? o.request }),
    expect: table([['request.not_pending', ['carl', 'sam', 'olivia', 'tom', 'audrey', 'selma', 'ivan', 'ada']],
      ['request.not_found', ['eve', 'vera']], ['actor.not_a_person', ['bot']]]),
  },
  {
    name: 'revoking the grant', idOf: (o) => o.grant, run: (ctx, o, id) => revokeGrant(ctx, { grant: id ?? o.grant, reason: 'probe' }),
    expect: table([['grant.already_ended', ['carl', 'sam', 'olivia', 'tom', 'selma', 'ivan', 'ada']], ['actor.forbidden', ['audrey']],
      ['grant.not_found', ['eve', 'vera', 'bot']]]),
  },
  {
    name: 'showing the engagement', idOf: (o) => o.engagement, run: (ctx, o, id) => showEngagement(ctx, id ?? o.engagement),
    expect: table([['ok', ['carl', 'sam', 'audrey', 'selma', 'ivan', 'ada']], ['engagement.not_found', ['olivia', 'tom', 'eve', 'vera', 'bot']]]),
  },
  {
    name: 'renewing the engagement', idOf: (o) => o.engagement,
    run: (ctx, o, id) => renewEngagement(ctx, { engagement: id ?? o.engagement, endsAt: new Date(o.currentEnd.getTime() - DAY).toISOString(), reason: 'probe' }),
    expect: table([['engagement.invalid_dates', ['carl', 'sam', 'ivan', 'ada']],
      ['engagement.not_found', ['audrey', 'selma', 'olivia', 'tom', 'eve', 'vera', 'bot']]]),
  },
];

const outcomeOf = async (promise: Promise<unknown>): Promise<TenureError | 'ok'> => {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof TenureError) return error;
    throw error;
  }
};
const codeOf = (o: TenureError | 'ok') => (o === 'ok' ? 'ok' : o.code);

for (const backend of BACKENDS) {
  describe(`visible or not found: an outsider cannot tell an object from one that does not exist (${backend})`, () => {
    let store: Store;
    let w: World;
    let o: Objects;
    before(async () => {
      store = await freshStore(backend);
      w = await buildWorld(store);
      const carl = await w.as('carl');
      const request = await createRequest(carl, { entitlement: 'payments/read', justification: 'month end', duration: '1d' });
      await cancelRequest(carl, { request: request.id, reason: 'not needed after all' });
      const grant = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'reporting', duration: '1d' }, ['sam', 'olivia']);
      await revokeGrant(carl, { grant, reason: 'done' });
      o = { request: request.id, grant, engagement: w.engagementId, currentEnd: (await showEngagement(carl, w.engagementId)).endsAt };
    });
    after(async () => { await store.close(); });

    for (const path of PATHS) {
      for (const who of CAST) {
        const expected = path.expect[who];
        it(`${who} ${path.name}: ${expected}`, async () => {
          const ctx = await w.as(who);
          const got = await outcomeOf(path.run(ctx, o));
          assert.equal(codeOf(got), expected, got === 'ok' ? 'succeeded' : got.message);
          if (!expected.endsWith('not_found')) return;
          // The very answer an unknown id gets: same code, same field, the same message but for the id.
          const unknown = randomUUID();
          const reference = await outcomeOf(path.run(ctx, o, unknown));
          assert.ok(reference !== 'ok' && got !== 'ok');
          assert.deepEqual([got.code, got.field, got.message.replace(path.idOf(o), unknown)], [reference.code, reference.field, reference.message]);
        });
      }
    }
  });
}
