import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AUDIT_EVENT_TYPES } from '../src/audit/event-types.js';
import { canonicalEvent, chainHash, GENESIS_HASH } from '../src/audit/chain.js';
import { OCSF_MAPPING, ocsfNames } from '../src/domain/ocsf.js';
import { withOcsfTable } from '../src/domain/ocsf-doc.js';
import { ocsfRecord } from '../src/siem/records.js';

const IAM_CLASSES = [3001, 3002, 3003, 3004, 3005, 3006];

describe('the OCSF mapping of the audit actions', () => {
  it('docs/siem.md shows exactly the table of the code (run npm run docs:siem to refresh it)', () => {
    const doc = readFileSync(new URL('../docs/siem.md', import.meta.url), 'utf8');
    assert.equal(doc, withOcsfTable(doc));
    for (const action of AUDIT_EVENT_TYPES) assert.ok(doc.includes(`| \`${action}\` |`), action);
  });

  it('has a row for every action Tenure records (the typed list every work.record call must use), and no other', () => {
    assert.deepEqual(AUDIT_EVENT_TYPES.filter((action) => !(action in OCSF_MAPPING)), []);
    const actions = new Set<string>(AUDIT_EVENT_TYPES);
    assert.deepEqual(Object.keys(OCSF_MAPPING).filter((action) => !actions.has(action)), []);
  });

  it('uses only IAM classes or the explicit base event, each with an activity OCSF defines for it', () => {
    for (const [action, mapping] of Object.entries(OCSF_MAPPING)) {
      assert.ok(mapping.classUid === 0 ? mapping.activityId === 99 : IAM_CLASSES.includes(mapping.classUid), action);
      assert.equal(ocsfNames(mapping).typeUid, mapping.classUid * 100 + mapping.activityId, action);
      assert.ok(mapping.note.length > 0, `${action} says why`);
    }
  });

  it('uses all six IAM classes of issue 21', () => {
    assert.deepEqual([...new Set(Object.values(OCSF_MAPPING).map((m) => m.classUid))].filter((c) => c !== 0).sort(), IAM_CLASSES);
  });

  it('builds a record whose raw data verifies against the chain and whose metadata carries the seq for deduplication', () => {
    const canonical = canonicalEvent(1, new Date('2030-01-01T09:00:00Z'), { id: 'a1', channel: 'api', tokenId: 't1' },
      { action: 'grant.revoked', subject: { type: 'grant', id: 'g1' }, identityId: 'p1' });
    const hash = chainHash(GENESIS_HASH, canonical);
    const record = ocsfRecord({ seq: 1, hash, prevHash: GENESIS_HASH, canonical }, { productVersion: '9.9.9', sdId: 'tenure@32473' });
    assert.equal(record.class_uid, 3005);
    assert.equal(record.activity_id, 2);
    assert.equal(record.type_uid, 300502);
    assert.equal(record.category_uid, 3);
    assert.equal(record.time, Date.parse('2030-01-01T09:00:00Z'));
    assert.deepEqual(record.actor, { app_name: 'Tenure', user: { uid: 'a1' }, session: { uid: 't1' } });
    assert.deepEqual(record.user, { uid: 'p1' });
    const metadata = record.metadata as Record<string, unknown>;
    assert.equal(metadata.uid, '1');
    assert.deepEqual(metadata.product, { name: 'Tenure', vendor_name: 'Tenure', version: '9.9.9' });
    const tenure = (record.unmapped as { tenure: { hash: string; prev_hash: string } }).tenure;
    assert.equal(chainHash(tenure.prev_hash, record.raw_data as string), tenure.hash);
  });
});
