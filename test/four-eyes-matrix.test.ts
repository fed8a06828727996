import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { parse, stringify } from 'yaml';
import type { LightMyRequestResponse } from 'fastify';
import { newId } from '../src/domain/ids.js';
import { hashSecret, newSecret } from '../src/operations/lib/credentials/secrets.js';
import { identities, roleAssignments, systems } from '../src/store/schema.js';
import { hrBatches } from '../src/store/schema-hr.js';
import { findings, provisioningJobs } from '../src/store/schema-provisioning.js';
import { reviewItems } from '../src/store/schema-reviews.js';
import { apiTokens } from '../src/store/schema-service.js';
import { freshStore } from './support/backends.js';
import { breakGlassPolicy } from './support/break-glass-policy.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { startService, type Service } from './support/service.js';
import { DAY } from './support/world.js';

/**
 * Every path that decides anything, tried through the HTTP API by everyone who is a party to what
 * is decided: the subject, the requester, the beneficiary, the creator of the subject identity, the
 * owner of a service-account subject, a service account, and a token minted for an otherwise
 * legitimate decider by a party. None may succeed; then one legitimate decider does, so each row
 * can fail. The cast: Ivan (IAM) creates `pupbot`, a service account owned by Sam, and `pup`, a
 * contractor he sponsors himself; Ada created everyone else; Sid is a second security officer.
 */

/** Who calls: a persona's own token, or a token for `for` minted by `by` (inserted as a row, as minting it is refused). */
type Caller = string | { for: string; by: string };
const label = (c: Caller) => (typeof c === 'string' ? c : `a token for ${c.for} minted by ${c.by}`);

type Columns = [column: string, caller: Caller][];

const succeeded = (res: LightMyRequestResponse): boolean => {
  if (res.statusCode >= 300) return false;
  const body = res.json() as { results?: { outcome: unknown }[] };
  return body.results ? body.results.every((r) => r.outcome !== null) : true;
};

describe('four eyes: no party to a decision takes it, on any deciding path, through the HTTP API (postgres)', () => {
  let s: Service;
  const ids: Record<string, string> = {};
  const minted = new Map<string, string>();
  const call = async (as: Caller, method: 'POST', url: string, body: unknown) => {
    if (typeof as === 'string') return s.call(method, url, { as, body });
    const key = `${as.for}<${as.by}`;
    if (!minted.has(key)) {
      const secret = newSecret('tnr');
      await s.world.store.db.insert(apiTokens).values({ id: newId(), identityId: await s.world.id(as.for), name: `minted-by-${as.by}`,
        scopes: ['read', 'write', 'check'], secretHash: hashSecret(secret), expiresAt: new Date(s.world.clock.now().getTime() + DAY),
        createdAt: s.world.clock.now(), createdBy: await s.world.id(as.by) });
      minted.set(key, secret);
    }
    return s.app.inject({ method, url, headers: { authorization: `Bearer ${minted.get(key)!}` }, payload: body as object });
  };
  const ok = async (res: Promise<LightMyRequestResponse>, what: string) => {
    const r = await res;
    assert.ok(r.statusCode < 300, `${what}: ${r.statusCode} ${r.body}`);
    return r.json() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- each route answers its own shape
  };
  const request = async (as: string, entitlement: string) =>
    (await ok(call(as, 'POST', '/v1/requests', { entitlement, justification: 'work', ticket: 'T-1', duration: '7d' }), `${as} asks ${entitlement}`)).id as string;
  const finding = async (kind: string, subject: string) => {
    const id = newId();
    await s.world.store.db.insert(findings).values({ id, kind: kind as never, severity: 'high', key: `${kind}:${id}`, status: 'open',
      identityId: ids[subject]!, summary: `about ${subject}`, evidence: {}, openedAt: s.world.clock.now(), lastSeenAt: s.world.clock.now() });
    return id;
  };
  const job = async (grantId: string, state: 'awaiting_confirmation' | 'held', action: 'provision' | 'deprovision') =>
    (await s.world.store.db.insert(provisioningJobs).values({ grantId, identityId: ids.pupbot!, systemId: ids.payments!, action, state })
      .returning({ id: provisioningJobs.id }))[0]!.id;
  const policyWith = (roles: Record<string, string[]>) => {
    const doc = parse(breakGlassPolicy()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a YAML document edited in place
    doc.groups.secops = ['selma', 'sid'];
    Object.assign(doc.roles, roles);
    return stringify(doc);
  };
  /** The matrix of one path: every forbidden column refused (never a 500), then each legitimate decider succeeds. */
  const matrix = async (forbidden: Columns, legit: Caller[], attempt: (as: Caller, step: number) => Promise<LightMyRequestResponse>) => {
    const wrongly: string[] = [];
    for (const [column, caller] of forbidden) {
      const res = await attempt(caller, 0);
      assert.ok(res.statusCode < 500, `${column} (${label(caller)}): ${res.statusCode} ${res.body}`);
      if (succeeded(res)) wrongly.push(`${column} (${label(caller)})`);
    }
    assert.deepEqual(wrongly, [], 'parties that succeeded');
    for (const [step, caller] of legit.entries()) {
      const res = await attempt(caller, step);
      assert.ok(succeeded(res), `the legitimate decider ${label(caller)}: ${res.statusCode} ${res.body}`);
    }
  };
  const robot: Columns = [['the subject, requester and beneficiary (a service account)', 'pupbot'], ['the creator of the subject', 'ivan'],
    ['the owner of the service-account subject', 'sam'], ['another service account', 'bot'],
    ['a token minted for the decider by the owner', { for: 'selma', by: 'sam' }]];
  const req: Record<string, string> = {};
  const grant: Record<string, string> = {};

  before(async () => {
    s = await startService(await freshStore('postgres'));
    const now = s.world.clock.now().getTime();
    await ok(call('ivan', 'POST', '/v1/identities', { handle: 'sid', displayName: 'Sid Security', kind: 'employee' }), 'sid');
    await applyPolicyText(s.world, policyWith({}));
    await ok(call('ivan', 'POST', '/v1/identities', { handle: 'pupbot', displayName: 'Puppet bot', kind: 'service_account', owner: 'sam' }), 'pupbot');
    await ok(call('ivan', 'POST', '/v1/identities', { handle: 'pup', displayName: 'Puppet', kind: 'contractor', sponsor: 'ivan' }), 'pup');
    ids.engagement = (await ok(call('ivan', 'POST', '/v1/engagements', { identity: 'pup', vendor: 'Acme Integrators', businessFunction: 'Finance',
      purpose: 'Puppetry', pattern: 'system_integrator', endsAt: new Date(now + 60 * DAY).toISOString(), dataSensitivity: 'confidential',
      scope: ['payments'] }), 'engagement')).id as string;
    for (const h of ['pupbot', 'pup', 'selma', 'eve', 'sam', 'ivan', 'ada']) ids[h] = await s.world.id(h);
    ids.payments = (await s.world.store.db.select({ id: systems.id }).from(systems).where(eq(systems.key, 'payments')))[0]!.id;
    req.read = await request('pupbot', 'payments/read');
    req.crm = await request('pupbot', 'crm/read');
    req.initiate = await request('pupbot', 'payments/initiate');
    req.approve = await request('pupbot', 'payments/approve');
    req.pup = await request('pup', 'payments/read');
  });
  after(async () => { await s?.app.close(); await s?.world.store.close(); });

  it('approve: no party approves a request filed by a service account, whose owner would be its sponsor', () =>
    matrix(robot, ['selma', 'olivia'], async (as) => {
      const res = await call(as, 'POST', `/v1/requests/${req.read}/approve`, {});
      if (succeeded(res) && res.json().grantId) grant.read = res.json().grantId as string;
      return res;
    }));

  it('approve with a stage: the same, naming the stage', () =>
    matrix(robot, ['selma', 'olivia'], (as, step) => call(as, 'POST', `/v1/requests/${req.crm}/approve`, { stage: step })));

  it('bulk approve: the same, each item decided alone', () =>
    matrix(robot, ['selma', 'olivia'], async (as) => {
      const res = await call(as, 'POST', '/v1/requests/approvals', { requests: [req.initiate] });
      const outcome = res.statusCode < 300 ? (res.json() as { results: { outcome: { grantId: string | null } | null }[] }).results[0]?.outcome : null;
      if (outcome?.grantId) grant.initiate = outcome.grantId;
      return res;
    }));

  it('deny: no party denies either', () =>
    matrix(robot, ['selma'], (as) => call(as, 'POST', `/v1/requests/${req.approve}/deny`, { reason: 'no' })));

  it('approve: the operator who created a contractor sponsored by themselves does not approve its sponsor stage', () =>
    matrix([['the subject, requester and beneficiary', 'pup'], ['the creator and sponsor of the subject', 'ivan'], ['a service account', 'bot'],
      ['a token minted for the decider by the creator', { for: 'selma', by: 'ivan' }]], ['selma', 'olivia'],
    (as) => call(as, 'POST', `/v1/requests/${req.pup}/approve`, {})));

  it('review decision: neither the owner nor the creator of a service account reviews its access', async () => {
    await ok(call('ivan', 'POST', '/v1/reviews/campaigns', { scope: 'system', system: 'payments', reviewer: 'sponsor', dueIn: '7d' }), 'campaign');
    const [item] = await s.world.store.db.select().from(reviewItems)
      .where(and(eq(reviewItems.identityId, ids.pupbot!), eq(reviewItems.status, 'pending')));
    assert.ok(item, 'an item for the service account\'s grant');
    const reviewer = (await s.world.store.db.select({ handle: identities.handle }).from(identities).where(eq(identities.id, item.reviewerId)))[0]!.handle;
    assert.notEqual(reviewer, 'sam', 'the owner is not asked to review his own service account');
    await matrix([...robot.slice(0, 4), ['a token minted for the reviewer by the owner', { for: reviewer, by: 'sam' }]], [reviewer],
      (as) => call(as, 'POST', `/v1/reviews/items/${item.id}/decide`, { decision: 'keep', comment: 'needed' }));
  });

  it('engagement renewal decision: the sponsor who created the contractor does not revalidate its access', async () => {
    const endsAt = new Date(s.world.clock.now().getTime() + 90 * DAY).toISOString();
    await ok(call('ivan', 'POST', `/v1/engagements/${ids.engagement}/renew`, { endsAt, reason: 'more puppetry' }), 'renewal');
    const [item] = await s.world.store.db.select().from(reviewItems)
      .where(and(eq(reviewItems.identityId, ids.pup!), eq(reviewItems.status, 'pending')));
    assert.ok(item, 'a renewal item for the contractor\'s grant');
    const reviewer = (await s.world.store.db.select({ handle: identities.handle }).from(identities).where(eq(identities.id, item.reviewerId)))[0]!.handle;
    await matrix([['the subject', 'pup'], ['the creator and sponsor of the subject', 'ivan'], ['a service account', 'bot'],
      ['a token minted for the reviewer by the creator', { for: reviewer, by: 'ivan' }]], [reviewer],
    (as) => call(as, 'POST', `/v1/reviews/items/${item.id}/decide`, { decision: 'keep', comment: 'still needed' }));
  });

  it('break-glass review: neither the user nor whoever created them reviews the use', async () => {
    const started = await ok(call('eve', 'POST', '/v1/breakglass', { entitlement: 'payments/admin', incident: 'INC-7', reason: 'outage' }), 'break-glass');
    await matrix([['the subject', 'eve'], ['the creator of the subject', 'ada'], ['a service account', 'bot'],
      ['a token minted for the reviewer by the subject', { for: 'olivia', by: 'eve' }]], ['olivia'],
    (as) => call(as, 'POST', `/v1/breakglass/reviews/${started.reviewId as string}/decide`, { outcome: 'appropriate', comment: 'fine' }));
  });

  for (const verb of ['accept', 'resolve'] as const) {
    const body = () => (verb === 'accept' ? { reason: 'risk taken', until: new Date(s.world.clock.now().getTime() + 30 * DAY).toISOString() } : { resolution: 'done' });
    it(`finding ${verb}: nobody ${verb}s a finding about themselves or an identity they created or own`, async () => {
      const aboutSelma = await finding('breakglass_misuse', 'selma');
      await matrix([['the subject', 'selma'], ['the creator of the subject', 'ada'], ['a service account', 'bot'],
        ['a token minted for the decider by the subject', { for: 'sid', by: 'selma' }]], ['sid'],
      (as) => call(as, 'POST', `/v1/findings/${aboutSelma}/${verb}`, body()));
      const aboutBot = await finding('credential_rotation_overdue', 'pupbot');
      await matrix([...robot.slice(0, 4), ['a token minted for the decider by the owner', { for: 'sid', by: 'sam' }]], ['sid'],
        (as) => call(as, 'POST', `/v1/findings/${aboutBot}/${verb}`, body()));
    });
  }

  for (const verb of ['confirm', 'resolve'] as const) {
    it(`task ${verb}: nobody ${verb}s a provisioning task about an identity they are a party to`, async () => {
      const id = await job(grant.read!, 'awaiting_confirmation', 'provision');
      await matrix([...robot.slice(0, 4), ['a token minted for the decider by the creator', { for: 'tom', by: 'ivan' }]], [verb === 'confirm' ? 'tom' : 'sid'],
        (as) => call(as, 'POST', `/v1/provisioning/jobs/${id}/${verb}`, { note: 'done by hand' }));
    });
  }

  it('brake release: whoever ended the held access does not release it', async () => {
    await ok(call('selma', 'POST', `/v1/grants/${grant.initiate!}/revoke`, { reason: 'no longer needed' }), 'revoke');
    await job(grant.initiate!, 'held', 'deprovision');
    await matrix([['who ended the access', 'selma'], ['the creator of who ended it', 'ada'], ['a service account', 'bot'],
      ['a token minted for the decider by who ended it', { for: 'sid', by: 'selma' }]], ['sid'],
    (as) => call(as, 'POST', '/v1/provisioning/release', { system: 'payments', reason: 'expected' }));
  });

  for (const decision of ['confirm', 'discard'] as const) {
    it(`HR batch ${decision}: the importer of a held batch does not decide it`, async () => {
      const id = newId();
      await s.world.store.db.insert(hrBatches).values({ id, status: 'held', channel: 'api', events: 0, wouldSuspend: 0, population: 0,
        createdBy: ids.ada!, createdAt: s.world.clock.now() });
      await matrix([['the importer', 'ada'], ['a service account', 'bot'], ['a token minted for the decider by the importer', { for: 'selma', by: 'ada' }]],
        ['selma'], (as) => call(as, 'POST', `/v1/hr/batches/${id}/decide`, { decision, reason: 'checked' }));
    });
  }

  it('policy apply: nobody applies a policy that gives themselves a role with powers they lack', async () => {
    const files = [{ name: 'policy.yaml', content: policyWith({ iam: ['ivan', 'selma'] }) }];
    await matrix([['the subject (security, granting itself IAM)', 'selma'], ['a service account', 'bot'],
      ['a token minted for the applier by the subject', { for: 'ada', by: 'selma' }]], ['ada'],
    (as) => call(as, 'POST', '/v1/policy/apply', { files }));
    const roles = await s.world.store.db.select().from(roleAssignments).where(eq(roleAssignments.identityId, ids.selma!));
    assert.ok(roles.some((r) => r.role === 'iam'), 'applied by the administrator, the grant holds');
  });
});
