import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { remoteApi } from '../src/cli/api-remote.js';
import { loadHttpConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { createToken } from '../src/operations/create-token.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { recordSession, recordSshSession } from './support/proxy-session-fixture.js';
import { buildWorld, type World } from './support/world.js';

/**
 * Issue 18: a long session is read a page at a time. Its first statements come with the session,
 * the rest from its timeline; the whole recording downloads as a file whose SHA-256 is the digest
 * the audit chain carries; an SSH recording too long to come inline is downloaded instead.
 */
/** More than one page of verification (2,000 lines) and of the timeline. */
const STATEMENTS = 2345;
const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

for (const backend of BACKENDS) {
  describe(`long session recordings, a page at a time (${backend})`, () => {
    let w: World;
    let app: FastifyInstance;
    let long: string;
    let bigSsh: string;
    let smallSsh: string;
    const tokens = new Map<string, string>();

    before(async () => {
      w = await buildWorld(await freshStore(backend));
      const grant = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'quarter close', duration: '7d' }, ['sam', 'olivia']);
      long = await recordSession(w, grant, Array.from({ length: STATEMENTS }, (_, i) => `SELECT ${i + 1}`));
      // Five outputs of a MiB each, with characters JSON escapes: well over the 4 MiB shown inline.
      bigSsh = await recordSshSession(w, grant, Array.from({ length: 5 }, (_, i) => `${i}\u0001"`.repeat(350_000)));
      smallSsh = await recordSshSession(w, grant, ['$ ls\r\n', 'ledger.csv\r\n']);
      app = await buildApp({ store: w.store, clock: w.clock, http: loadHttpConfig({}) });
      for (const handle of ['selma', 'ivan']) tokens.set(handle, (await createToken(await w.as(handle), { name: `${handle}-read`, scopes: ['read'] })).secret);
    });
    after(async () => { await app?.close(); await w?.store.close(); });

    const get = (url: string, as = 'selma') => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokens.get(as)!}` } });
    const texts = (items: { text?: string }[]) => items.map((s) => s.text);

    it(`a session of ${STATEMENTS} statements shows its first 500 and a cursor; its timeline reads every one in order, none twice`, async () => {
      const shown = (await get(`/v1/proxy-sessions/${long}`)).json();
      assert.equal(shown.verified, true);
      assert.deepEqual(texts(shown.timeline), Array.from({ length: 500 }, (_, i) => `SELECT ${i + 1}`));
      assert.ok(shown.timelineNextCursor);
      const read: string[] = [...texts(shown.timeline) as string[]];
      const sizes: number[] = [];
      for (let cursor: string | null = shown.timelineNextCursor; cursor !== null;) {
        const page = await get(`/v1/proxy-sessions/${long}/timeline?limit=400&cursor=${cursor}`);
        assert.equal(page.statusCode, 200, page.body);
        read.push(...texts(page.json().items) as string[]);
        sizes.push(page.json().items.length);
        cursor = page.json().nextCursor;
      }
      assert.deepEqual(sizes, [400, 400, 400, 400, 245]);
      assert.deepEqual(read, Array.from({ length: STATEMENTS }, (_, i) => `SELECT ${i + 1}`));
    });

    it('the download of either kind of recording is byte for byte what the audited digest covers', async () => {
      for (const [session, type, extension] of [[long, 'application/x-ndjson', 'jsonl'], [bigSsh, 'application/x-asciicast', 'cast']] as const) {
        const shown = (await get(`/v1/proxy-sessions/${session}`)).json();
        const download = await get(`/v1/proxy-sessions/${session}/recording`);
        assert.equal(download.statusCode, 200, download.body.slice(0, 200));
        assert.match(download.headers['content-type'] as string, new RegExp(`^${type}`));
        assert.equal(download.headers['content-disposition'], `attachment; filename="session-${session}.${extension}"`);
        assert.equal(sha256(download.rawPayload), shown.auditedSha256);
        assert.equal(download.rawPayload.length, shown.recordingBytes);
      }
    });

    it('an SSH recording over 4 MiB is not inline (download it); a small one is, as the asciicast file', async () => {
      const big = (await get(`/v1/proxy-sessions/${bigSsh}`)).json();
      assert.equal(big.asciicast, null);
      assert.ok(big.recordingBytes > 4 * 1024 * 1024, String(big.recordingBytes));
      assert.equal(big.verified, true);
      const small = (await get(`/v1/proxy-sessions/${smallSsh}`)).json();
      assert.equal(sha256(small.asciicast), small.auditedSha256);
      assert.deepEqual([small.timeline, small.timelineNextCursor], [[], null]);
    });

    it('the CLI\'s seam reads every statement and downloads the recording over HTTP', async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as { port: number };
      const api = remoteApi(`http://127.0.0.1:${port}`, tokens.get('selma')!);
      assert.equal((await api.listProxySessionTimeline({ session: long })).length, STATEMENTS);
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (chunk: Buffer) => chunks.push(chunk));
      await api.downloadProxySessionRecording(smallSsh, out);
      assert.equal(sha256(Buffer.concat(chunks)), (await api.showProxySession({ session: smallSsh })).auditedSha256);
    });

    it('attacker: another session\'s cursor, a forged one and a limit over 2,000 are refused naming the field', async () => {
      const otherCursor = (await get(`/v1/proxy-sessions/${long}/timeline?limit=1`)).json().nextCursor as string;
      for (const [url, field] of [
        [`/v1/proxy-sessions/${smallSsh}/timeline?cursor=${otherCursor}`, 'cursor'],
        [`/v1/proxy-sessions/${long}/timeline?cursor=${Buffer.from('{"k":"-1 OR 1=1","i":"x"}').toString('base64url')}`, 'cursor'],
        [`/v1/proxy-sessions/${long}/timeline?limit=2001`, 'limit'],
      ] as const) {
        const refused = await get(url);
        assert.deepEqual([refused.statusCode, refused.json().code], [400, 'input.invalid'], url);
        assert.match(refused.body, new RegExp(field), url);
      }
    });

    it('attacker: someone who may not read the session is refused its timeline and its download; an unknown session is 404', async () => {
      for (const path of ['timeline', 'recording']) {
        const refused = await get(`/v1/proxy-sessions/${long}/${path}`, 'ivan');
        assert.deepEqual([refused.statusCode, refused.json().code], [403, 'actor.forbidden'], path);
        const missing = await get(`/v1/proxy-sessions/00000000-0000-4000-8000-000000000000/${path}`);
        assert.deepEqual([missing.statusCode, missing.json().code], [404, 'proxy_session.not_found'], path);
      }
    });

    it('a statement edited past the first page verification reads still fails verification; a purged recording is 410 to download', async () => {
      await w.store.db.execute(sql`UPDATE proxy_statements SET record = replace(record, 'SELECT 2200', 'SELECT 1') WHERE session_id = ${long} AND seq = 2200`);
      assert.equal((await get(`/v1/proxy-sessions/${long}`)).json().verified, false);
      await w.store.db.execute(sql`UPDATE proxy_sessions SET recording_purged_at = now() WHERE id = ${smallSsh}`);
      const purged = await get(`/v1/proxy-sessions/${smallSsh}/recording`);
      assert.deepEqual([purged.statusCode, purged.json().code], [410, 'proxy_session.recording_purged']);
    });
  });
}
