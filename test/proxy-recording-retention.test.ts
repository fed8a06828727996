import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { parse, stringify } from 'yaml';
import { purgeExpiredRecordings } from '../src/jobs/recordings.js';
import { showProxySession } from '../src/operations/show-proxy-session.js';
import { rawRows } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { recordSession } from './support/proxy-session-fixture.js';
import { buildWorld, DAY, LIFECYCLE_POLICY, type World } from './support/world.js';

/** The lifecycle policy with payments' recordings kept for `recordings` (any YAML value, to test bad ones too). */
const retentionPolicy = (recordings: unknown): string => {
  const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as { systems: Record<string, Record<string, unknown>> };
  doc.systems.payments!.recordings = recordings;
  return stringify(doc);
};

/** Issue 18: recordings are kept per system (`recordings: 400d`), then their lines go, audited; the session and its digest stay. */
for (const backend of BACKENDS) {
  describe(`retention of session recordings (${backend})`, () => {
    let w: World;
    let old: string;
    let recent: string;
    const linesOf = async (session: string) =>
      (await rawRows<{ n: number }>(w.store.db, sql`SELECT count(*)::int AS n FROM proxy_statements WHERE session_id = ${session}`))[0]!.n;
    const purgeEvents = () => rawRows<{ canonical: string }>(w.store.db,
      sql`SELECT canonical FROM audit_events WHERE action = 'proxy_session.recording_purged' ORDER BY seq`);

    before(async () => {
      w = await buildWorld(await freshStore(backend));
      const grant = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'quarter close', duration: '7d' }, ['sam', 'olivia']);
      old = await recordSession(w, grant, ['SELECT 1', 'SELECT 2']);
      w.clock.advance(3 * DAY);
      recent = await recordSession(w, grant, ['SELECT 3']);
      w.clock.advance(398 * DAY);
    });
    after(async () => { await w?.store.close(); });

    it('keeps every recording when the system names no retention', async () => {
      assert.equal(await purgeExpiredRecordings(w.worker), 0);
      assert.deepEqual([await linesOf(old), await linesOf(recent)], [2, 1]);
    });

    it('refuses a retention that is not a duration, naming the field', async () => {
      await assert.rejects(applyPolicyText(w, retentionPolicy(400)), /recordings/);
      await assert.rejects(applyPolicyText(w, retentionPolicy('forever')), /recordings/);
    });

    it('with recordings: 400d, deletes the lines of sessions ended longer ago, keeps the session and its digest, and audits the batch', async () => {
      await applyPolicyText(w, retentionPolicy('400d'));
      assert.equal(await purgeExpiredRecordings(w.worker), 1);
      assert.deepEqual([await linesOf(old), await linesOf(recent)], [0, 1]);
      const events = (await purgeEvents()).map((e) => JSON.parse(e.canonical) as { data: { system: string; sessions: string[] } });
      assert.deepEqual(events.map((e) => [e.data.system, e.data.sessions]), [['payments', [old]]]);
    });

    it('reads a purged session as verified: purged, with the audited digest still shown, and the kept one as verified', async () => {
      const purged = await showProxySession(await w.as('audrey'), { session: old });
      assert.equal(purged.verified, 'purged');
      assert.equal(purged.auditedSha256, purged.recordingSha256);
      assert.deepEqual(purged.timeline, []);
      assert.ok(purged.recordingPurgedAt);
      assert.equal((await showProxySession(await w.as('audrey'), { session: recent })).verified, true);
    });

    it('purges nothing twice: a second pass finds nothing due and records no event', async () => {
      assert.equal(await purgeExpiredRecordings(w.worker), 0);
      assert.equal((await purgeEvents()).length, 1);
    });
  });
}
