/**
 * Data for the decision-point benchmark, generated in bulk by SQL (INSERT ... SELECT generate_series)
 * on top of the lifecycle test world: `identities` people (30% contractors with an engagement, 2%
 * suspended), `grantsPerIdentity` active grants each over a catalogue of 50 systems x 20 entitlements
 * (the first of each privileged, needing MFA and a trusted device; actions `use` for all, `admin`
 * for the privileged ones), and a mix of questions to ask.
 */
import { sql } from 'drizzle-orm';
import type { CheckRequest } from '../src/decision/service.js';
import type { DecisionSettings } from '../src/domain/decision-settings.js';
import type { Store } from '../src/store/database.js';
import { rawRows } from '../src/store/database.js';

export const SYSTEMS = 50;
export const PER_SYSTEM = 20;

export interface DecisionData { identities: number; grants: number; questions: CheckRequest[] }

const settings = (): DecisionSettings => {
  const result: DecisionSettings = {};
  for (let s = 0; s < SYSTEMS; s += 1) {
    for (let e = 0; e < PER_SYSTEM; e += 1) {
      result[`sys${s}/e${e}`] = e === 0
        ? { actions: ['admin'], conditions: { mfa: true, trusted_device: true } }
        : { actions: [e < 5 ? 'write' : 'read'] };
    }
  }
  return result;
};

/** Fills the store; returns the sizes and `questionCount` questions (70% about a grant held). */
export const generateDecisionData = async (
  store: Store, people: { olivia: string; sam: string }, sizes: { identities: number; grantsPerIdentity: number }, questionCount: number,
): Promise<DecisionData> => {
  const db = store.db;
  const { olivia, sam } = people;
  const [vendor] = await rawRows<{ id: string }>(db, sql`SELECT id FROM vendors LIMIT 1`);
  await db.execute(sql`INSERT INTO systems (id, key, name, business_owner_id, technical_owner_id, criticality)
    SELECT gen_random_uuid(), 'sys' || s, 'System ' || s, ${olivia}, ${olivia}, 'medium' FROM generate_series(0, ${SYSTEMS - 1}) s`);
  await db.execute(sql`INSERT INTO entitlements (id, key, system_id, name, tier)
    SELECT gen_random_uuid(), s.key || '/e' || e, s.id, 'Entitlement ' || e,
           CASE WHEN e = 0 THEN 'privileged' WHEN e < 5 THEN 'standard' ELSE 'read' END
    FROM systems s CROSS JOIN generate_series(0, ${PER_SYSTEM - 1}) e WHERE s.key LIKE 'sys%'`);
  await db.execute(sql`UPDATE policy_state SET document = jsonb_set(document, '{decision}', ${JSON.stringify(settings())}::jsonb) WHERE id = 1`);
  await db.execute(sql`INSERT INTO identities (id, handle, display_name, kind, status, sponsor_id, created_at, updated_at)
    SELECT gen_random_uuid(), 'u' || n, 'User ' || n, CASE WHEN n % 10 < 3 THEN 'contractor' ELSE 'employee' END,
           CASE WHEN n % 50 = 0 THEN 'suspended' ELSE 'active' END, CASE WHEN n % 10 < 3 THEN ${sam}::uuid END, now(), now()
    FROM generate_series(1, ${sizes.identities}) n`);
  await db.execute(sql`INSERT INTO engagements (id, identity_id, vendor_id, sponsor_id, business_function, purpose, pattern,
      starts_at, ends_at, data_sensitivity, scope, status, created_at)
    SELECT gen_random_uuid(), i.id, ${vendor!.id}, ${sam}, 'Bench', 'Bench', 'analyst', now() - interval '30 days', now() + interval '60 days',
           'internal', '[]'::jsonb, CASE WHEN substr(i.handle, 2)::int % 97 = 0 THEN 'ended' ELSE 'active' END, now()
    FROM identities i WHERE i.handle ~ '^u[0-9]+$' AND i.kind = 'contractor'`);
  await db.execute(sql`INSERT INTO grants (id, identity_id, entitlement_id, engagement_id, origin, starts_at, ends_at, status,
      provisioning_state, created_at)
    SELECT gen_random_uuid(), u.id, e.id, g.id, 'birthright', now() - interval '1 day', now() + ((u.n % 30) + 1) * interval '1 day',
           'active', 'provisioned', now()
    FROM (SELECT id, substr(handle, 2)::int AS n FROM identities WHERE handle ~ '^u[0-9]+$') u
    CROSS JOIN generate_series(0, ${sizes.grantsPerIdentity - 1}) j
    JOIN (SELECT id, (row_number() OVER (ORDER BY key COLLATE "C") - 1)::int AS m FROM entitlements WHERE key LIKE 'sys%') e
      ON e.m = (u.n * 7 + j * 13) % ${SYSTEMS * PER_SYSTEM}
    LEFT JOIN engagements g ON g.identity_id = u.id`);
  await db.execute(sql`ANALYZE`);
    // As the HTTP route hands them over: parsed from JSON (which gives short strings in the engine's shared form).
  const asked = questions(sizes, questionCount).map((q) => JSON.parse(JSON.stringify(q)) as CheckRequest);
  return { identities: sizes.identities, grants: sizes.identities * sizes.grantsPerIdentity, questions: asked };
};

/** A deterministic pseudo-random mix: 70% held grants (privileged ones with or without MFA), 20% not held, 10% by action. */
export const questions = (sizes: { identities: number; grantsPerIdentity: number }, count: number): CheckRequest[] => {
  let seed = 42;
  // mulberry32: small, fast, and unlike a bare LCG its low bits are usable with %.
  const next = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const total = SYSTEMS * PER_SYSTEM;
  const keys = sortedKeys();
  const list: CheckRequest[] = [];
  for (let i = 0; i < count; i += 1) {
    const n = 1 + next(sizes.identities);
    const roll = next(10);
    const context = { mfa: next(5) > 0, trustedDevice: next(5) > 0, sourceAddress: '10.0.0.1' };
    const held = keys[(n * 7 + next(sizes.grantsPerIdentity) * 13) % total]!;
    if (roll < 7) list.push({ identity: `u${n}`, entitlement: held, context });
    else if (roll < 9) list.push({ identity: `u${n}`, entitlement: keys[next(total)]!, context });
    else {
      const [system, name] = held.split('/') as [string, string];
      const e = Number(name.slice(1));
      list.push({ identity: `u${n}`, system, action: e === 0 ? 'admin' : e < 5 ? 'write' : 'read', context });
    }
  }
  return list;
};

let keys: string[] | undefined;
/** Entitlement keys in the order the SQL numbered them (ORDER BY key, byte order). */
export const sortedKeys = (): string[] => {
  keys ??= Array.from({ length: SYSTEMS * PER_SYSTEM }, (_, m) => `sys${Math.floor(m / PER_SYSTEM)}/e${m % PER_SYSTEM}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys;
};
