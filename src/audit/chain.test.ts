import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalJson } from './chain.js';

describe('canonical JSON of audit events', () => {
  it('is byte for byte what the RFC 8785 reference library produces, for any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      assert.equal(canonicalJson(value), canonicalize(value));
    }), { numRuns: 2000 });
  });

  it('sorts members at every depth, drops undefined members and writes dates as ISO strings', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: undefined }, t: new Date(0) }),
      '{"a":{"d":[3,{"e":2,"f":1}]},"b":1,"t":"1970-01-01T00:00:00.000Z"}');
  });
});
