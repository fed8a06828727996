import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { renderEvidenceHtml } from '../src/evidence/render-html.js';
import { buildEvidencePack } from '../src/operations/build-evidence-pack.js';
import { createRequest } from '../src/operations/create-request.js';
import { createToken } from '../src/operations/create-token.js';
import { hashSecret, newSecret } from '../src/operations/lib/credentials/secrets.js';
import { newId } from '../src/domain/ids.js';
import { auditEvents } from '../src/store/schema.js';
import { apiTokens } from '../src/store/schema-service.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore, type Backend } from './support/backends.js';
import { startService, type Service } from './support/service.js';
import { HOUR } from './support/world.js';

type Json = Record<string, unknown>;

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

/** A token row as a database from before the fix may hold it: `subject`'s, created by `creator`. */
const insertMintedBy = async (s: Service, subject: string, creator: string): Promise<string> => {
  const secret = newSecret('tnr');
  await s.world.store.db.insert(apiTokens).values({
    id: newId(), identityId: await s.world.id(subject), name: 'minted for someone else', scopes: ['read', 'write', 'check'],
    secretHash: hashSecret(secret), expiresAt: new Date(s.world.clock.now().getTime() + 30 * 24 * HOUR),
    createdAt: s.world.clock.now(), createdBy: await s.world.id(creator),
  });
  return secret;
};

const eventsOf = async (s: Service, action: string) =>
  (await s.world.store.db.select().from(auditEvents).where(eq(auditEvents.action, action))).map((e) => JSON.parse(e.canonical) as Json);

const suite = (backend: Backend) => describe(`tokens are bounded by who minted them (${backend})`, () => {
  let s: Service;
  before(async () => { s = await startService(await freshStore(backend)); });
  after(async () => { await s.app.close(); await s.world.store.close(); });

  it('IAM and an administrator cannot mint a token for any person, through the API or the local CLI', async () => {
    for (const minter of ['ivan', 'ada']) {
      for (const person of ['selma', 'olivia', 'carl', 'vera']) {
        const api = await s.call('POST', '/v1/tokens', { as: minter, body: { name: 'impersonate', identity: person, scopes: ['write'] } });
        assert.equal(api.statusCode, 403, api.body);
        assert.deepEqual([api.json().code, api.json().field], ['token.person_only_self', 'identity']);
        await refusedWith(createToken(await s.world.as(minter), { name: 'impersonate', identity: person }), 'token.person_only_self', 'identity');
      }
    }
    const minted = await s.world.store.db.select({ id: apiTokens.id }).from(apiTokens)
      .where(and(eq(apiTokens.identityId, await s.world.id('selma')), eq(apiTokens.createdBy, await s.world.id('ivan'))));
    assert.deepEqual(minted, []);
  });

  it('a security approver\'s token minted by IAM before the fix cannot approve the IAM operator\'s own request', async () => {
    // Ivan has no manager, so his sponsor stage goes to security (selma), then to the system owners.
    const request = await createRequest(await s.world.as('ivan'), {
      beneficiary: 'ivan', entitlement: 'payments/read', justification: 'month-end report', duration: '2h',
    });
    assert.deepEqual(request.stages[0]!.approverIds, [await s.world.id('selma')]);
    const forged = await insertMintedBy(s, 'selma', 'ivan');
    const approve = (secret: string) => s.app.inject({ method: 'POST', url: `/v1/requests/${request.id}/approve`, headers: bearer(secret), payload: {} });
    const refused = await approve(forged);
    assert.equal(refused.statusCode, 401, refused.body);
    assert.equal(refused.json().code, 'auth.invalid_credentials');
    assert.equal((await s.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(forged) })).statusCode, 401);
    const stageEvents = (await eventsOf(s, 'request.stage_approved')).filter((e) => (e.subject as Json).id === request.id);
    assert.deepEqual(stageEvents, [], 'nothing was approved in selma\'s name');
    const own = await approve(await s.token('selma', ['write']));
    assert.equal(own.statusCode, 200, `selma herself decides the stage the forged token could not: ${own.body}`);
  });

  it('acting through a service account token minted by its owner records the owner as issuer: audit event, search, /v1/me, evidence pack', async () => {
    const botToken = (await createToken(await s.world.as('tom'), { name: 'bot key', identity: 'bot', scopes: ['read', 'write'] })).secret;
    const child = await s.app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(botToken), payload: { name: 'bot child', scopes: ['read'] } });
    assert.equal(child.statusCode, 201, child.body);
    const [tom, bot] = [await s.world.id('tom'), await s.world.id('bot')];
    const created = (await eventsOf(s, 'token.created')).find((e) => (e.subject as Json).id === child.json().id)!;
    assert.deepEqual(created.actor, { id: bot, channel: 'api', tokenId: (created.actor as Json).tokenId, issuedBy: tom });
    const me = await s.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(child.json().secret) });
    assert.deepEqual([me.json().handle, me.json().issuedBy], ['bot', 'tom'], 'a child of an owner-minted token is issued by the owner too');
    const search = await s.call('GET', '/v1/audit/events?action=token.created&identity=bot', { as: 'audrey' });
    const found = (search.json().items as Json[]).find((e) => (e.subject as Json).id === child.json().id)!;
    assert.equal((found.actor as Json).issuedBy, tom);
    const pack = await s.call('GET', '/v1/evidence/identity/bot', { as: 'audrey' });
    const item = (pack.json().timeline as Json[]).find((e) => (e.subject as Json).id === child.json().id)!;
    assert.deepEqual([item.actor, item.issuedBy], ['bot', 'tom']);
    const filed = await s.app.inject({ method: 'POST', url: '/v1/requests', headers: bearer(botToken),
      payload: { beneficiary: 'bot', entitlement: 'crm/read', justification: 'nightly export', duration: '30d' } });
    assert.equal(filed.statusCode, 201, filed.body);
    const html = renderEvidenceHtml(await buildEvidencePack(await s.world.as('audrey'), { subject: 'identity', ref: 'bot' }));
    assert.ok(html.includes('bot via token issued by tom'));
    const ownMe = await s.call('GET', '/v1/me', { as: 'eve' });
    assert.equal(ownMe.json().issuedBy, null, 'a person\'s own token has no other issuer');
  });

  it('a write-only one-hour token cannot mint a broader or longer-lived child; a child gets at most its parent\'s scopes and end', async () => {
    const parent = await createToken(await s.world.as('eve'), { name: 'write for an hour', scopes: ['write'], expiresIn: '1h' });
    const mint = (body: Json) => s.app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(parent.secret), payload: body });
    const broader = await mint({ name: 'escalate', scopes: ['read', 'write', 'check'], expiresIn: '365d' });
    assert.equal(broader.statusCode, 422, broader.body);
    assert.deepEqual([broader.json().code, broader.json().field], ['token.scope_exceeds_parent', 'scopes']);
    const longer = await mint({ name: 'outlive', scopes: ['write'], expiresIn: '365d' });
    assert.deepEqual([longer.json().code, longer.json().field], ['token.outlives_parent', 'expiresIn']);
    const bounded = await mint({ name: 'inside', scopes: ['write'] });
    assert.equal(bounded.statusCode, 201, bounded.body);
    assert.equal(bounded.json().expiresAt, parent.expiresAt.toISOString(), 'without expiresIn a child ends with its parent');
    assert.equal(bounded.json().parentTokenId, parent.id);
    const rootFromCli = await createToken(await s.world.as('eve'), { name: 'root', scopes: ['read', 'write', 'check'], expiresIn: '30d' });
    assert.equal(rootFromCli.parentTokenId, null, 'minted from the local CLI, a token is a root');
    const readOnly = await s.app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer((await createToken(await s.world.as('eve'),
      { name: 'reader', scopes: ['read'] })).secret), payload: { name: 'x', scopes: ['read'] } });
    assert.deepEqual([readOnly.statusCode, readOnly.json().code], [403, 'auth.scope_missing'], 'minting needs the write scope');
  });

  it('revoking a parent revokes its whole subtree in one transaction, each audited, and the child is refused at once', async () => {
    const root = await createToken(await s.world.as('sam'), { name: 'root', scopes: ['read', 'write'], expiresIn: '1d' });
    const mintWith = async (secret: string, name: string) => {
      const answer = await s.app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(secret), payload: { name, scopes: ['read', 'write'] } });
      assert.equal(answer.statusCode, 201, answer.body);
      return answer.json() as { id: string; secret: string };
    };
    const child = await mintWith(root.secret, 'child');
    const grandchild = await mintWith(child.secret, 'grandchild');
    const me = async (secret: string) => (await s.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(secret) })).statusCode;
    assert.deepEqual([await me(child.secret), await me(grandchild.secret)], [200, 200]);
    const revoked = await s.call('DELETE', `/v1/tokens/${root.id}`, { as: 'sam' });
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal(revoked.json().revokedDescendants, 2);
    assert.deepEqual([await me(child.secret), await me(grandchild.secret)], [401, 401]);
    const events = await s.world.store.db.select().from(auditEvents).where(eq(auditEvents.action, 'token.revoked'));
    const bySubject = new Map(events.map((e) => [e.subjectId, e]));
    const trio = [root.id, child.id, grandchild.id].map((id) => bySubject.get(id));
    assert.ok(trio.every(Boolean), 'each revocation is audited');
    assert.equal(new Set(trio.map((e) => e!.occurredAt.toISOString())).size, 1, 'one transaction, one time');
  });

  it('a token whose ancestor is revoked or expired is refused even when the revocation never reached it', async () => {
    const root = await createToken(await s.world.as('olivia'), { name: 'root', scopes: ['read', 'write'], expiresIn: '2h' });
    const child = (await s.app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(root.secret), payload: { name: 'c', scopes: ['read'] } })).json();
    const me = async () => (await s.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(child.secret) })).statusCode;
    assert.equal(await me(), 200);
    // Written around the use case, as a database superuser could: the child row stays live and outlives its parent.
    await s.world.store.db.update(apiTokens).set({ expiresAt: new Date(s.world.clock.now().getTime() + 30 * 24 * HOUR) }).where(eq(apiTokens.id, child.id));
    await s.world.store.db.update(apiTokens).set({ revokedAt: s.world.clock.now() }).where(eq(apiTokens.id, root.id));
    assert.equal(await me(), 401, 'revoked ancestor');
    await s.world.store.db.update(apiTokens).set({ revokedAt: null }).where(eq(apiTokens.id, root.id));
    assert.equal(await me(), 200);
    s.world.clock.advance(3 * HOUR);
    assert.equal(await me(), 401, 'expired ancestor');
  });
});

for (const backend of BACKENDS) suite(backend);

describe('a revocation racing minting through the same token (postgres)', { skip: !BACKENDS.includes('postgres') }, () => {
  let s: Service;
  before(async () => { s = await startService(await freshStore('postgres', { poolSize: 8 })); });
  after(async () => { await s.app.close(); await s.world.store.close(); });

  it('leaves no live child of a revoked token, round after round', async () => {
    const started = Date.now();
    for (let round = 0; round < 8 && Date.now() - started < 60_000; round += 1) {
      const parent = await createToken(await s.world.as('eve'), { name: `parent ${round}`, scopes: ['read', 'write'], expiresIn: '1d' });
      const mints = Array.from({ length: 6 }, (_, i) => s.app.inject({
        method: 'POST', url: '/v1/tokens', headers: bearer(parent.secret), payload: { name: `child ${round}.${i}`, scopes: ['read'] },
      }));
      const revoke = s.call('DELETE', `/v1/tokens/${parent.id}`, { as: 'eve' });
      const [answers, revoked] = [await Promise.all(mints), await revoke];
      assert.equal(revoked.statusCode, 200, revoked.body);
      for (const answer of answers) {
        assert.ok([201, 401].includes(answer.statusCode), answer.body);
        if (answer.statusCode !== 201) continue;
        const me = await s.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(answer.json().secret) });
        assert.equal(me.statusCode, 401, `round ${round}: a child of a revoked token still works`);
      }
      const live = await s.world.store.db.select({ id: apiTokens.id }).from(apiTokens)
        .where(and(eq(apiTokens.parentTokenId, parent.id), isNull(apiTokens.revokedAt)));
      assert.deepEqual(live, [], `round ${round}: a child row was left live`);
    }
    const orphans = await s.world.store.db.execute(sql`SELECT 1 FROM api_tokens c JOIN api_tokens p ON p.id = c.parent_token_id
      WHERE p.revoked_at IS NOT NULL AND c.revoked_at IS NULL`);
    assert.equal((orphans as unknown as { rows: unknown[] }).rows.length, 0);
  });
});
