import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalEvent, canonicalJson } from './chain.js';
import type { Actor, AuditInput } from './event-types.js';

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

describe('canonical audit events', () => {
  const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  const event = fc.record({
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    at: fc.date({ min: new Date(0), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true }),
    actor: fc.record({ id: optional(fc.uuid()), channel: fc.constantFrom('api', 'cli', 'worker', 'system'), osUser: optional(fc.string()),
      tokenId: optional(fc.uuid()), issuedBy: optional(fc.string()) }),
    input: fc.record({ action: fc.string(), subject: fc.record({ type: fc.string(), id: fc.string() }), identityId: optional(fc.uuid()),
      systemId: optional(fc.uuid()), before: optional(fc.dictionary(fc.string(), fc.jsonValue())), after: optional(fc.dictionary(fc.string(), fc.jsonValue())),
      reason: optional(fc.string()), ticket: optional(fc.string()), data: optional(fc.dictionary(fc.string(), fc.jsonValue())) }),
  });

  it('are the RFC 8785 form of the whole event, though the seq is put between parts built before it is known', () => {
    fc.assert(fc.property(event, ({ seq, at, actor, input }) => {
      const whole = {
        v: 1, seq, at: at.toISOString(), action: input.action,
        actor: { id: actor.id ?? null, channel: actor.channel, osUser: actor.osUser, tokenId: actor.tokenId, issuedBy: actor.issuedBy },
        subject: input.subject, identityId: input.identityId ?? null, systemId: input.systemId ?? null, before: input.before ?? null,
        after: input.after ?? null, reason: input.reason ?? null, ticket: input.ticket ?? null, data: input.data ?? null,
      };
      assert.equal(canonicalEvent(seq, at, actor as Actor, input as AuditInput), canonicalize(whole));
    }), { numRuns: 1000 });
  });
});
