import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalStatement, type RecordedStatement } from './proxy-recording.js';

/** What the canonical line is defined as: the fields in this order, through JSON.stringify. */
const byDefinition = (s: RecordedStatement): string => JSON.stringify({
  seq: s.seq, at: s.at.toISOString(), durationUs: s.durationUs, protocol: s.protocol, text: s.text,
  params: s.params, tags: s.tags, rows: s.rows, error: s.error,
});

const base: RecordedStatement = {
  seq: 1, at: new Date('2030-01-01T00:00:00.123Z'), durationUs: 0, protocol: 'simple', text: 'SELECT 1', params: null,
  tags: ['SELECT 1'], rows: 1, error: null,
};

describe('the canonical statement line', () => {
  it('is the JSON of its fields in order, whatever the text, parameters, tags and error hold', () => {
    const cases: Partial<RecordedStatement>[] = [
      {},
      { seq: 9_007_199_254_740_991, durationUs: 123_456_789, rows: 0, tags: [] },
      { text: 'SELECT \'a"b\\\\c\' -- é 漢 😀\n\t\r\u0000\u001f\u2028\u2029', tags: ['UPDATE 4', 'SELECT 2'], rows: 6 },
      { text: 'lone \ud800 surrogate \udfff', protocol: 'extended', params: { redacted: 3 } },
      { protocol: 'extended', params: ['7', null, { binaryBytes: 16 }, 'quote " and \\ and \u0001'] },
      { error: { code: '23502', message: 'null value in column "a" violates not-null constraint' }, tags: [], rows: 0 },
      { error: { code: '', message: 'not run: an earlier message failed' }, at: new Date('1999-12-31T23:59:59.999Z') },
      { at: new Date('2030-01-01T00:00:00.123Z'), seq: 2 },
      { at: new Date('2030-01-01T00:00:00.124Z'), seq: 3 },
      { at: new Date('2030-01-01T00:00:00.123Z'), seq: 4 },
    ];
    for (const c of cases) {
      const s = { ...base, ...c };
      assert.equal(canonicalStatement(s), byDefinition(s));
    }
  });
});
