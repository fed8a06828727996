import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { createToken } from '../src/operations/create-token.js';
import { createWebhook } from '../src/operations/create-webhook.js';
import { loadWebhookKeyRing } from '../src/webhooks/index.js';
import { startReceiver } from './support/webhook-receiver.js';
import { openPostgres, rawRows } from '../src/store/database.js';
import { BACKENDS } from './support/backends.js';
import { createScratchDatabase } from './support/postgres-server.js';
import { buildWorld } from './support/world.js';
import { auditKeyEnv } from './support/audit-key.js';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));
const PEOPLE = 8;

/** Starts `tenure <args>` on the shared database; resolves with the process once `ready` matches its stderr. */
const start = (args: string[], env: NodeJS.ProcessEnv, ready: RegExp) => new Promise<{ child: ChildProcess; match: RegExpMatchArray }>((resolve, reject) => {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let seen = '';
  const timer = setTimeout(() => reject(new Error(`tenure ${args.join(' ')} did not start: ${seen}`)), 60_000);
  child.stderr!.on('data', (chunk: Buffer) => {
    seen += String(chunk);
    const match = seen.match(ready);
    if (match) { clearTimeout(timer); resolve({ child, match }); }
  });
  child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`tenure ${args.join(' ')} exited with ${code}: ${seen}`)); });
});

const stop = (child: ChildProcess) => new Promise<void>((resolve) => {
  if (child.exitCode !== null) { resolve(); return; }
  child.removeAllListeners('exit');
  child.once('exit', () => resolve());
  child.kill('SIGTERM');
});

describe('several servers and workers on one PostgreSQL database', { skip: !BACKENDS.includes('postgres') }, () => {
  it('two servers and two workers lose no approval, approve no stage twice, expire no grant twice and deliver each webhook once', async () => {
    const scratch = await createScratchDatabase();
    const store = await openPostgres(scratch.url);
    const receiver = await startReceiver();
    const children: ChildProcess[] = [];
    try {
      const w = await buildWorld(store, new Date());
      const ada = await w.as('ada');
      const webhookKey = randomBytes(32).toString('base64');
      await createWebhook(ada, { url: receiver.url, events: ['request.created', 'grant.activated', 'grant.expired'] },
        loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY: webhookKey }, dataDir: '/nonexistent', create: false }));
      const token = async (handle: string) => (await createToken(await w.as(handle), { name: 'multi', scopes: ['read', 'write'] })).secret;
      const env = { ...auditKeyEnv(), DATABASE_URL: scratch.url, TENURE_WORKER_INTERVAL_MS: '250', TENURE_ACTOR: '', PORT: '0', TENURE_WEBHOOK_KEY: webhookKey };
      const servers: string[] = [];
      for (let i = 0; i < 2; i += 1) {
        const { child, match } = await start(['serve'], env, /serving (http:\/\/\S+)/);
        children.push(child);
        servers.push(match[1]!);
      }
      for (let i = 0; i < 2; i += 1) children.push((await start(['worker'], env, /worker running/)).child);
      const call = async (server: string, secret: string, path: string, body: unknown) => {
        const res = await fetch(`${server}${path}`, { method: 'POST', body: JSON.stringify(body),
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' } });
        return { status: res.status, body: await res.json() as Record<string, unknown> };
      };
      const [sam, olivia, tom, adaToken] = [await token('sam'), await token('olivia'), await token('tom'), (await createToken(ada, { name: 'a', scopes: ['read', 'write'] })).secret];
      const requests: string[] = [];
      for (let i = 0; i < PEOPLE; i += 1) {
        const created = await call(servers[i % 2]!, adaToken, '/v1/identities', { handle: `emp${i}`, displayName: `Employee ${i}`, kind: 'employee', manager: 'sam' });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const own = (await createToken(await w.as(`emp${i}`), { name: 'own', scopes: ['read', 'write'] })).secret;
        const filed = await call(servers[(i + 1) % 2]!, own, '/v1/requests', { entitlement: 'payments/read', justification: 'report', duration: '3s' });
        assert.equal(filed.status, 201, JSON.stringify(filed.body));
        requests.push(filed.body.id as string);
      }
      for (const id of requests) {
        // The same manager approves through both servers at once: exactly one decision is taken.
        const twice = await Promise.all(servers.map((server) => call(server, sam, `/v1/requests/${id}/approve`, {})));
        assert.deepEqual(twice.map((r) => r.status).sort(), [200, 403], JSON.stringify(twice.map((r) => r.body)));
        // Both system owners approve the last stage at once, one through each server: one grant.
        const owners = await Promise.all([call(servers[0]!, olivia, `/v1/requests/${id}/approve`, {}), call(servers[1]!, tom, `/v1/requests/${id}/approve`, {})]);
        assert.deepEqual(owners.map((r) => r.status).sort(), [200, 409], JSON.stringify(owners.map((r) => r.body)));
      }
      const grants = await rawRows<{ request_id: string; status: string }>(store.db, sql`SELECT request_id, status FROM grants WHERE request_id = ANY(${sql.param(requests)}::uuid[])`);
      assert.equal(grants.length, PEOPLE, 'every approved request has exactly one grant');
      const deadline = Date.now() + 30_000;
      let expired = 0;
      while (Date.now() < deadline && expired < PEOPLE) {
        await new Promise((r) => setTimeout(r, 250));
        expired = (await rawRows<{ n: number }>(store.db, sql`SELECT count(*)::int AS n FROM grants WHERE request_id = ANY(${sql.param(requests)}::uuid[]) AND status = 'expired'`))[0]!.n;
      }
      assert.equal(expired, PEOPLE, 'the workers expired every grant');
      const events = await rawRows<{ subject_id: string; n: number }>(store.db, sql`SELECT subject_id, count(*)::int AS n FROM audit_events WHERE action = 'grant.expired' GROUP BY subject_id`);
      assert.equal(events.length, PEOPLE);
      assert.ok(events.every((e) => e.n === 1), 'no grant expired twice');
      const approvals = await rawRows<{ n: number }>(store.db, sql`SELECT count(*)::int AS n FROM audit_events WHERE action = 'request.stage_approved'`);
      assert.equal(approvals[0]!.n, PEOPLE * 2, 'each stage approved exactly once');
      // Every request created, grant activated and grant expired is delivered once, by one of the four loops.
      const expected = PEOPLE * 3;
      const until = Date.now() + 30_000;
      while (Date.now() < until && receiver.hits.length < expected) await new Promise((r) => setTimeout(r, 250));
      await new Promise((r) => setTimeout(r, 1000));
      const ids = receiver.hits.map((h) => h.id);
      assert.equal(ids.length, expected, 'every event was delivered');
      assert.equal(new Set(ids).size, ids.length, 'no event was delivered twice');
    } finally {
      await Promise.all(children.map(stop));
      await receiver.close();
      await store.close();
      await scratch.drop();
    }
  });
});
