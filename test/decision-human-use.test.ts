import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadHttpConfig } from '../src/config.js';
import { DecisionService } from '../src/decision/service.js';
import { buildApp } from '../src/http/app.js';
import { checkRoutes } from '../src/http/routes/check.js';
import { ROUTES } from '../src/http/routes/index.js';
import { scanCredentials } from '../src/jobs/credentials.js';
import { createToken } from '../src/operations/create-token.js';
import { listCredentials } from '../src/operations/list-credentials.js';
import { listFindings } from '../src/operations/list-findings.js';
import { registerCredential } from '../src/operations/register-credential.js';
import { retireCredential } from '../src/operations/retire-credential.js';
import { rotateCredential } from '../src/operations/rotate-credential.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { buildWorld, DAY, type World } from './support/world.js';

const fingerprintOf = (secret: string) => `sha256:${createHash('sha256').update(secret).digest('hex')}`;
const REPORTING = fingerprintOf('reporting-key');
const SPARE = fingerprintOf('spare-key');
const CARLS = fingerprintOf('carl-laptop-key');

for (const backend of BACKENDS) {
  describe(`the decision point and human use of service accounts (${backend})`, () => {
    let w: World;
    let app: FastifyInstance;
    let decisions: DecisionService;
    let checker: string;
    const ids = new Map<string, string>();

    before(async () => {
      w = await buildWorld(await freshStore(backend));
      // Both hold payments/read, so every deny below is about the attempt, not the grant.
      // Tom owns the bot, so he is a party to its requests: the policy's alternate (Selma) sponsors it.
      await grantThrough(w, 'ivan', { beneficiary: 'bot', entitlement: 'payments/read', justification: 'exports', duration: '60d' }, ['selma', 'olivia']);
      await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'reports', duration: '60d' }, ['sam', 'olivia']);
      const expiresAt = new Date(w.clock.now().getTime() + 80 * DAY);
      for (const [name, fingerprint] of [['reporting', REPORTING], ['spare', SPARE]] as const) {
        ids.set(name, (await registerCredential(await w.as('tom'), { identity: 'bot', kind: 'api_key', name, fingerprint, system: 'payments', expiresAt })).id);
      }
      ids.set('carl', (await registerCredential(await w.as('carl'), { identity: 'carl', kind: 'ssh_key', name: 'laptop', fingerprint: CARLS, expiresAt })).id);
      decisions = await DecisionService.start({ store: w.store, clock: w.clock, poll: false });
      const deps = { store: w.store, clock: w.clock, http: loadHttpConfig({}), decision: decisions };
      app = await buildApp(deps);
      if (!ROUTES.includes(checkRoutes)) await checkRoutes(app, deps);
      checker = (await createToken(await w.as('ada'), { name: 'gate', scopes: ['check'] })).secret;
    });
    after(async () => { await app?.close(); await decisions?.stop(); await w?.store.close(); });

    const ask = (body: unknown) => app.inject({ method: 'POST', url: '/v1/check', headers: { authorization: `Bearer ${checker}` }, payload: body as object });
    const humanUse = async (as = 'selma') => listFindings(await w.as(as), { kind: 'credential_human_use', status: 'open' });
    const lastUsed = async (name: string) =>
      (await listCredentials(await w.as('tom'), { identity: 'bot', status: 'active' })).find((c) => c.name === name)?.lastUsedAt ?? null;

    it('an interactive login as a service account is denied and opens a critical finding for its owner', async () => {
      const context = { interactive: true, sourceAddress: '10.1.2.3' };
      const first = await ask({ identity: 'bot', system: 'payments', action: 'select', context });
      assert.equal(first.statusCode, 200, first.body);
      assert.deepEqual([first.json().decision, first.json().reason, first.json().grant], ['deny', 'human_use_of_service_account', null]);
      const mfa = await ask({ identity: 'bot', system: 'payments', action: 'select', context: { mfa: true, sourceAddress: '10.1.2.3' } });
      assert.equal(mfa.json().reason, 'human_use_of_service_account', 'a machine does not answer an MFA prompt');
      await decisions.flushNoted();
      const found = await humanUse();
      assert.equal(found.length, 1, 'the same service account seen again refreshes one finding');
      const [finding] = found;
      assert.deepEqual({ severity: finding!.severity, identity: finding!.identity, owner: finding!.owner, system: finding!.system },
        { severity: 'critical', identity: 'bot', owner: 'tom', system: 'payments' });
      assert.deepEqual(finding!.frameworks.owaspNhi, ['NHI10:2025']);
      assert.match(finding!.summary, /service account bot interactively/);
      const evidence = finding!.evidence as Record<string, unknown>;
      assert.equal(evidence.askedAbout, 'bot');
      assert.equal(evidence.system, 'payments');
      assert.equal(evidence.action, 'select');
      assert.equal(evidence.at, w.clock.now().toISOString());
      assert.equal((evidence.context as { sourceAddress?: string }).sourceAddress, '10.1.2.3');
      assert.equal((await humanUse('tom')).length, 1, 'the owner sees it');
      assert.equal(decisions.check({ identity: 'bot', entitlement: 'payments/read' }).decision, 'allow', 'the same service account without a person is still allowed');
    });

    it('a person presenting a service account\'s credential is denied', async () => {
      const answer = decisions.check({ identity: 'carl', entitlement: 'payments/read', context: { credential: REPORTING, sourceAddress: '10.9.9.9' } });
      assert.deepEqual([answer.decision, answer.reason], ['deny', 'credential_not_owned']);
      await decisions.flushNoted();
      const finding = (await humanUse()).find((f) => (f.evidence as { credentialId?: string }).credentialId === ids.get('reporting'));
      assert.ok(finding, 'a finding names the borrowed credential');
      assert.equal(finding.owner, 'tom');
      assert.equal(finding.identity, 'bot');
      assert.match(finding.summary, /^carl presented api_key 'reporting' of service account bot at payments\/read$/);
      assert.deepEqual((finding.evidence as { credential: unknown }).credential, { name: 'reporting', kind: 'api_key', holder: 'bot', system: 'payments' });
      assert.equal((finding.evidence as { askedAbout: string }).askedAbout, 'carl');
      assert.equal(await lastUsed('reporting'), null, 'a borrowed use is not the credential\'s use');
      const ownKey = decisions.check({ identity: 'carl', entitlement: 'payments/read', context: { credential: CARLS, interactive: true } });
      assert.equal(ownKey.decision, 'allow', 'a person at the keyboard with their own credential is fine');
    });

    it('a service account using its own credential non-interactively is allowed and its last use is recorded', async () => {
      await decisions.flushNoted();
      const start = w.clock.now().getTime();
      const at = (ms: number) => new Date(start + ms);
      assert.equal(decisions.check({ identity: 'bot', entitlement: 'payments/read', context: { credential: REPORTING } }, at(1000)).decision, 'allow');
      assert.equal(decisions.check({ identity: 'bot', entitlement: 'payments/read', context: { credential: REPORTING } }, at(2000)).decision, 'allow');
      const written = decisions.status().credentialUse.usesWritten;
      await decisions.flushNoted();
      assert.equal(decisions.status().credentialUse.usesWritten - written, 1, 'one write per credential per flush');
      assert.deepEqual(await lastUsed('reporting'), at(2000));
      assert.equal(await lastUsed('spare'), null);

      w.clock.advance(31 * DAY);
      await decisions.sync();
      assert.equal(decisions.check({ identity: 'bot', entitlement: 'payments/read', context: { credential: REPORTING } }).decision, 'allow');
      await decisions.flushNoted();
      await scanCredentials(w.worker);
      const unused = (await listFindings(await w.as('selma'), { kind: 'credential_unused', status: 'open' }))
        .map((f) => (f.evidence as { credentialId: string }).credentialId);
      assert.ok(unused.includes(ids.get('spare')!), 'the credential nobody used is a finding');
      assert.ok(!unused.includes(ids.get('reporting')!), 'the one the decision point saw in use is not');
    });

    it('a rotated credential is known by its new fingerprint only', async () => {
      const rotated = fingerprintOf('reporting-key-2');
      await rotateCredential(await w.as('tom'), { credential: ids.get('reporting')!, fingerprint: rotated,
        expiresAt: new Date(w.clock.now().getTime() + 60 * DAY) });
      await decisions.sync();
      assert.equal(decisions.check({ identity: 'carl', entitlement: 'payments/read', context: { credential: rotated } }).reason, 'credential_not_owned');
      assert.equal(decisions.check({ identity: 'carl', entitlement: 'payments/read', context: { credential: REPORTING } }).reason, 'grant_active',
        'an old fingerprint is registered to nobody now');
    });

    it('a retired credential\'s fingerprint is not known to the decision point after retirement', async () => {
      assert.equal(decisions.check({ identity: 'carl', entitlement: 'payments/read', context: { credential: SPARE } }).reason, 'credential_not_owned');
      await retireCredential(await w.as('tom'), { credential: ids.get('spare')!, reason: 'key deleted from the vault' });
      await decisions.sync();
      assert.equal(decisions.check({ identity: 'carl', entitlement: 'payments/read', context: { credential: SPARE } }).reason, 'grant_active');
      const uses = decisions.status().credentialUse.uses;
      assert.equal(decisions.check({ identity: 'bot', entitlement: 'payments/read', context: { credential: SPARE } }).reason, 'grant_active');
      assert.equal(decisions.status().credentialUse.uses, uses, 'no use is noted for a fingerprint the index does not hold');
      assert.equal(decisions.status().sizes.credentials, 2);
    });

    it('a context credential that is not a fingerprint is refused naming the field', async () => {
      const secret = 'tnr_live_0123456789abcdefghijklmnopqrstuvwxyz';
      const response = await ask({ identity: 'bot', entitlement: 'payments/read', context: { credential: secret } });
      assert.equal(response.statusCode, 400, response.body);
      assert.equal(response.json().code, 'input.invalid');
      assert.equal(response.json().field, 'context.credential');
      assert.ok(!response.body.includes(secret), 'the value is never echoed');
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
        paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { properties: { context: { properties: Record<string, unknown> } } } }> } } }>;
      };
      const context = doc.paths['/v1/check']!.post.requestBody.content['application/json']!.schema.properties.context.properties;
      assert.deepEqual(Object.keys(context).filter((k) => k === 'interactive' || k === 'credential').sort(), ['credential', 'interactive']);
      assert.ok((context.credential as { pattern?: string }).pattern, 'the fingerprint pattern is published');
    });
  });
}
