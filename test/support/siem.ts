import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { chainHash } from '../../src/audit/chain.js';
import type { AuditEventType } from '../../src/audit/event-types.js';
import { ManualClock } from '../../src/domain/clock.js';
import { loadSiemTargets, type SiemTarget } from '../../src/siem/config.js';
import { rawRows, type Executor, type Store } from '../../src/store/database.js';
import type { Context } from '../../src/work/context.js';
import { recordEvents, START } from './audit-fixture.js';

/** The audit actions the stream tests record, in turn: IAM classes and a base event. */
const ACTIONS: AuditEventType[] = ['identity.created', 'grant.created', 'grant.revoked', 'session.created', 'finding.opened'];

export const systemContext = (store: Store): Context => ({ store, clock: new ManualClock(START), actor: { id: undefined, channel: 'worker' } });

/**
 * Records `count` events in one transaction. Their reasons hold what syslog must escape or carry
 * (quotes, backslashes, brackets, a newline, non-ASCII), so every test also checks the round trip.
 */
export const recordSome = async (ctx: Context, count: number): Promise<void> => {
  await recordEvents(ctx, Array.from({ length: count }, (_, i) => ({
    action: ACTIONS[i % ACTIONS.length]!, subject: { type: 'grant', id: `g-${i}` },
    reason: `why "${i}" \\ [x] ]\nzweite Zeile — é`,
  })));
};

export const headSeq = async (db: Executor): Promise<number> =>
  Number((await rawRows<{ seq: string | number }>(db, sql`SELECT seq FROM audit_head WHERE id = 1`))[0]!.seq);

/** The feed cursor's position, or undefined before the stream's first run. */
export const cursorAt = async (db: Executor, name: string): Promise<number | undefined> => {
  const [row] = await rawRows<{ seq: string | number }>(db, sql`SELECT seq FROM feed_cursors WHERE name = ${name}`);
  return row ? Number(row.seq) : undefined;
};

export const eventHashes = async (db: Executor): Promise<Map<number, { hash: string; action: string }>> =>
  new Map((await rawRows<{ seq: string | number; hash: string; action: string }>(db, sql`SELECT seq, hash, action FROM audit_events ORDER BY seq`))
    .map((r) => [Number(r.seq), { hash: r.hash, action: r.action }]));

export const onlyTarget = (env: NodeJS.ProcessEnv): SiemTarget => {
  const targets = loadSiemTargets(env, '0.0.0-test');
  assert.equal(targets.length, 1);
  return targets[0]!;
};

export interface ParsedSyslog { pri: number; version: string; timestamp: string; appName: string; msgId: string; sdId: string; params: Record<string, string>; msg: string }

const unescape = (value: string): string => value.replace(/\\(["\\\]])/g, '$1');

/** Parses one RFC 5424 message with a single SD element, undoing §6.3.3 escaping; throws on anything else. */
export const parseSyslog = (raw: string): ParsedSyslog => {
  const match = /^<(\d{1,3})>(1) (\S+) (\S+) (\S+) (\S+) (\S+) \[([^ \]]+)((?: [^= \]"]+="(?:[^"\\\]]|\\["\\\]])*")*)\] \ufeff(.*)$/s.exec(raw);
  if (!match) throw new Error(`not an RFC 5424 message with one SD element: ${raw.slice(0, 200)}`);
  const params: Record<string, string> = {};
  for (const [, name, value] of match[9]!.matchAll(/ ([^= \]"]+)="((?:[^"\\\]]|\\["\\\]])*)"/g)) params[name!] = unescape(value!);
  return { pri: Number(match[1]), version: match[2]!, timestamp: match[3]!, appName: match[5]!, msgId: match[7]!, sdId: match[8]!, params, msg: match[10]! };
};

/**
 * Checks one received message against the stored event: SD seq, hash and action; MSG the export line
 * whose canonical event chains to the hash. Returns the seq.
 */
export const checkSyslogMessage = (raw: string, stored: Map<number, { hash: string; action: string }>): number => {
  const parsed = parseSyslog(raw);
  const seq = Number(parsed.params.seq);
  const event = stored.get(seq);
  assert.ok(event, `seq ${seq} is an event of the log`);
  assert.equal(parsed.sdId, 'tenure@32473');
  assert.equal(parsed.params.hash, event.hash);
  assert.equal(parsed.params.action, event.action);
  assert.equal(parsed.msgId, event.action);
  assert.equal(parsed.appName, 'tenure');
  const line = JSON.parse(parsed.msg) as { seq: number; hash: string; prevHash: string; event: unknown };
  assert.equal(line.seq, seq);
  assert.equal(line.hash, event.hash);
  // The canonical text is the MSG's "event" member verbatim: re-hashing it proves the copy is exact.
  const canonical = parsed.msg.slice(parsed.msg.indexOf('"event":') + '"event":'.length, -1);
  assert.equal(chainHash(line.prevHash, canonical), event.hash);
  return seq;
};
