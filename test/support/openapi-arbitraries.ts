import { randomUUID } from 'node:crypto';
import fc from 'fast-check';

/** The slice of JSON Schema that @fastify/swagger writes for Tenure's routes. */
export interface JsonSchema {
  type?: string | string[]; enum?: unknown[]; const?: unknown; format?: string; pattern?: string;
  minLength?: number; maxLength?: number; minimum?: number; maximum?: number; minItems?: number; maxItems?: number;
  items?: JsonSchema; properties?: Record<string, JsonSchema>; required?: string[]; additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; allOf?: JsonSchema[]; default?: unknown;
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Page cursors someone made up: well-formed base64url JSON with the wrong things inside, and worse. */
export const FORGED_CURSORS = [
  b64({ k: 'not a date', i: 'not a uuid' }), b64({ k: '-infinity', i: randomUUID() }), b64({ k: '2030-01-01T00:00:00.000Z', i: 'x' }),
  b64({ k: '-200000-01-01T00:00:00.000Z', i: randomUUID() }), b64({ k: '-99999999999999999999999', i: randomUUID() }),
  b64({ k: 'a\u0000b', i: randomUUID() }), b64({ k: 1, i: 2 }), b64({ k: 'x', i: randomUUID(), extra: true }), b64('[]'), b64('null'),
  b64('{"k":'), '!!!not base64!!!', '',
];

/** Values that have each been a 500 somewhere, or could be: what a schema must refuse before SQL sees it. */
export const HOSTILE: unknown[] = [
  '', ' ', '\u0000', 'a\u0000b', 'line\u0007bell', '\ud800', 'x\udfffy', '\u202e', 'é'.repeat(300), 'x'.repeat(5000),
  '-infinity', 'infinity', 'NaN', '-200000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '0000-01-01T00:00:00Z', '10000-01-01T00:00:00Z',
  '9999999999999999999999', '90', '-5m', '1e400d', '0s', '%', 'xyz', 'pay ments', '../../etc/passwd', "'; drop table grants; --",
  '__proto__', 'constructor', 'prototype', 'toString', '00000000-0000-0000-0000-000000000000', randomUUID(),
  -1, 0, 1.5, 2 ** 53, 1e308, -1e308, true, false, null, [], ['\u0000'], {}, { __proto__: null, constructor: { prototype: { admin: true } } },
  ...FORGED_CURSORS,
];

/** Names that exist in the test world, so generated requests also get past "not found" now and then. */
const PLAUSIBLE = ['ada', 'carl', 'sam', 'olivia', 'ivan', 'bot', 'payments', 'payments/read', 'payments/initiate', 'Acme Integrators', '1h', '8h', '2d', 'INC-1'];

const stringArb = (s: JsonSchema): fc.Arbitrary<string> => {
  if (s.format === 'uuid') return fc.uuid();
  if (s.format === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (s.format === 'email') return fc.emailAddress();
  const max = Math.min(s.maxLength ?? 60, 60);
  const free = fc.string({ minLength: s.minLength ?? 0, maxLength: Math.max(max, s.minLength ?? 0) });
  if (s.pattern) {
    try {
      return fc.oneof(fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length <= (s.maxLength ?? Infinity)), free);
    } catch {
      return free;
    }
  }
  return fc.oneof(fc.constantFrom(...PLAUSIBLE), free);
};

const objectArb = (s: JsonSchema, depth: number): fc.Arbitrary<Record<string, unknown>> => {
  const props = s.properties ?? {};
  const required = new Set(s.required ?? []);
  return fc.record(Object.fromEntries(Object.entries(props).map(([k, v]) => [k, fromSchema(v, depth + 1)])),
    { requiredKeys: Object.keys(props).filter((k) => required.has(k)) }) as fc.Arbitrary<Record<string, unknown>>;
};

/** A value the schema allows (as far as JSON Schema can say; refinements are the server's to check). */
export const fromSchema = (s: JsonSchema, depth = 0): fc.Arbitrary<unknown> => {
  if (depth > 6) return fc.constant(null);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a) => fromSchema(a, depth + 1)));
  if (s.allOf?.[0]) return fromSchema(s.allOf[0], depth + 1);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string': return stringArb(s);
    case 'integer': return fc.integer({ min: Math.max(s.minimum ?? -1000, -1e9), max: Math.min(s.maximum ?? 1000, 1e9) });
    case 'number': return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true });
    case 'boolean': return fc.boolean();
    case 'null': return fc.constant(null);
    case 'array': return fc.array(fromSchema(s.items ?? {}, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 3, 3) });
    case 'object': return objectArb(s, depth);
    default: return fc.oneof(fc.string(), fc.integer(), fc.constant(null));
  }
};

/** Replaces one field, at any depth, with a hostile value; adds an unknown or prototype key; or sends the wrong type whole. */
export const mutate = (value: unknown): fc.Arbitrary<unknown> => fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTILE).chain((bad) => fc.nat().map((n) => replaceOne(value, bad, n))) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'isAdmin', 'prototype').map((k) => addKey(value, k)) },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) },
);

const slots = (value: unknown, path: (string | number)[] = []): (string | number)[][] => {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...path, i], ...slots(v, [...path, i])]);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [[...path, k], ...slots(v, [...path, k])]);
  }
  return [];
};

const replaceOne = (value: unknown, bad: unknown, n: number): unknown => {
  const all = slots(value);
  if (all.length === 0) return bad;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  const path = all[n % all.length]!;
  let at: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path[path.length - 1]!] = bad;
  return copy;
};

/** Defined as own properties (JSON.parse does the same with "__proto__"), so the key really is sent. */
const addKey = (value: unknown, key: string): unknown => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = { ...value };
  Object.defineProperty(copy, key, { value: { admin: true }, enumerable: true, configurable: true, writable: true });
  return copy;
};
