/**
 * Decision-point answers kept as access events (table access_events), for attribution: who was
 * allowed or denied what, when, with which context. Recording only appends to a buffer; batches are
 * written in the background in one INSERT each. A failed write drops its batch (counted, warned),
 * never the answer, and a full buffer drops new events rather than grow without bound.
 */
import { sql } from 'drizzle-orm';
import type { DecisionContext } from '../domain/decision-conditions.js';
import { newId } from '../domain/ids.js';
import type { Db } from '../store/database.js';

export type AccessLogMode = { kind: 'none' } | { kind: 'all' } | { kind: 'sample'; rate: number };

/** `none` (default), `all`, or `sample:R` with 0 < R ≤ 1 (the share of answers kept). */
export const parseAccessLogMode = (text: string | undefined): AccessLogMode => {
  const value = (text ?? '').trim();
  if (value === '' || value === 'none') return { kind: 'none' };
  if (value === 'all') return { kind: 'all' };
  const match = /^sample:(\d*\.?\d+)$/.exec(value);
  const rate = match ? Number(match[1]) : Number.NaN;
  if (!(rate > 0 && rate <= 1)) {
    throw new Error(`TENURE_ACCESS_LOG: '${value}' is not none, all or sample:R with 0 < R <= 1 (for example sample:0.1)`);
  }
  return rate === 1 ? { kind: 'all' } : { kind: 'sample', rate };
};

export interface AccessEventInput {
  at: Date;
  identityId: string | null;
  entitlementKey: string | null;
  systemKey: string | null;
  action: string | null;
  allowed: boolean;
  reason: string;
  grantId: string | null;
  context: DecisionContext | undefined;
}

export interface AccessLogOptions {
  batchSize?: number;
  flushIntervalMs?: number;
  maxBuffered?: number;
  random?: () => number;
  onError?: (error: Error) => void;
}

export interface AccessLogStats { recorded: number; written: number; dropped: number; failedBatches: number }

export class AccessLog {
  private buffer: AccessEventInput[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly stats: AccessLogStats = { recorded: 0, written: 0, dropped: 0, failedBatches: 0 };
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxBuffered: number;
  private readonly random: () => number;

  constructor(private readonly db: Db, private readonly mode: AccessLogMode, private readonly options: AccessLogOptions = {}) {
    this.batchSize = options.batchSize ?? 1000;
    this.flushIntervalMs = options.flushIntervalMs ?? 250;
    this.maxBuffered = options.maxBuffered ?? 50_000;
    this.random = options.random ?? Math.random;
  }

  get enabled(): boolean { return this.mode.kind !== 'none'; }

  /** Keeps the event (or not, by the sampling rate) for the next batch. Never waits, never throws. */
  record(event: AccessEventInput): void {
    if (this.mode.kind === 'none' || (this.mode.kind === 'sample' && this.random() >= this.mode.rate)) return;
    if (this.buffer.length >= this.maxBuffered) { this.stats.dropped += 1; return; }
    this.buffer.push(event);
    this.stats.recorded += 1;
    if (this.buffer.length >= this.batchSize) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => { this.timer = undefined; void this.flush(); }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Writes everything buffered so far; resolves when it is written or dropped. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    const batch = this.buffer.splice(0, this.batchSize);
    this.flushing = this.write(batch).finally(() => { this.flushing = undefined; });
    await this.flushing;
    if (this.buffer.length > 0) await this.flush();
  }

  private async write(batch: AccessEventInput[]): Promise<void> {
    const rows = batch.map((e) => ({
      id: newId(), at: e.at.toISOString(), identity_id: e.identityId, entitlement_key: e.entitlementKey, system_key: e.systemKey,
      action: e.action, allowed: e.allowed, reason: e.reason, grant_id: e.grantId, context: e.context ?? null,
    }));
    try {
      await this.db.execute(sql`
        INSERT INTO access_events (id, at, identity_id, entitlement_key, system_key, action, allowed, reason, grant_id, context)
        SELECT e.id, e.at, e.identity_id, e.entitlement_key, e.system_key, e.action, e.allowed, e.reason, e.grant_id, e.context
        FROM json_to_recordset(${JSON.stringify(rows)}::json)
          AS e(id uuid, at timestamptz, identity_id uuid, entitlement_key text, system_key text, action text,
               allowed boolean, reason text, grant_id uuid, context jsonb)`);
      this.stats.written += batch.length;
    } catch (error) {
      this.stats.dropped += batch.length;
      this.stats.failedBatches += 1;
      this.options.onError?.(error as Error);
    }
  }

  counts(): AccessLogStats { return { ...this.stats }; }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    await this.flush();
  }
}
