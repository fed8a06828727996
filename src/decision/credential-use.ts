/**
 * What the decision point's answers say about registered credentials, written off the hot path: an
 * allowed use of a credential moves its `last_used_at` (so the scan's `credential_unused` sees real
 * use), and a person using a service account opens or refreshes a `credential_human_use` finding.
 * Answers only note these in memory; a background flush writes them, coalesced per credential (one
 * UPDATE for every use since the last flush) and per finding. Neither ever delays or fails an answer.
 */
import { sql } from 'drizzle-orm';
import type { Context } from '../work/context.js';
import { humanUseKey, recordHumanUse, type HumanUse } from '../operations/lib/credentials/human-use.js';

export type { HumanUse } from '../operations/lib/credentials/human-use.js';

export interface CredentialUseOptions {
  flushIntervalMs?: number;
  /** Credentials (and findings) waiting for the next flush before new ones are dropped. */
  maxPending?: number;
  onError?: (error: Error) => void;
}

export interface CredentialUseStats {
  /** Uses noted, and credentials whose last use was written (at most one per credential per flush). */
  uses: number; usesWritten: number;
  humanUses: number; findingsWritten: number;
  dropped: number; failedWrites: number;
}

/** A finding that could not be written is tried again at the next flushes, a few times: it is evidence. */
const FINDING_ATTEMPTS = 3;

export class CredentialUse {
  private lastUse = new Map<string, number>();
  private humanUses = new Map<string, { use: HumanUse; attempts: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopping = false;
  private readonly stats: CredentialUseStats = { uses: 0, usesWritten: 0, humanUses: 0, findingsWritten: 0, dropped: 0, failedWrites: 0 };
  private readonly flushIntervalMs: number;
  private readonly maxPending: number;

  constructor(private readonly ctx: Context, private readonly options: CredentialUseOptions = {}) {
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.maxPending = options.maxPending ?? 10_000;
  }

  /** An allowed answer for a registered credential, presented by its holder. Never waits, never throws. */
  used(credentialId: string, at: Date): void {
    this.stats.uses += 1;
    const previous = this.lastUse.get(credentialId);
    if (previous === undefined && this.lastUse.size >= this.maxPending) { this.stats.dropped += 1; return; }
    if (previous === undefined || at.getTime() > previous) this.lastUse.set(credentialId, at.getTime());
    this.schedule();
  }

  /** A person behind a service account: the latest attempt per finding is kept as its evidence. */
  humanUse(use: HumanUse): void {
    this.stats.humanUses += 1;
    const key = humanUseKey(use);
    if (!this.humanUses.has(key) && this.humanUses.size >= this.maxPending) { this.stats.dropped += 1; return; }
    this.humanUses.set(key, { use, attempts: 0 });
    this.schedule();
  }

  /** Writes everything noted so far; resolves when it is written or dropped. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.lastUse.size === 0 && this.humanUses.size === 0) return;
    const uses = this.lastUse;
    const humans = this.humanUses;
    this.lastUse = new Map();
    this.humanUses = new Map();
    this.flushing = this.write(uses, humans).finally(() => { this.flushing = undefined; });
    await this.flushing;
    // On the way out, findings put back for another attempt are tried now (a bounded number of times).
    if (this.stopping) await this.flush();
  }

  counts(): CredentialUseStats { return { ...this.stats }; }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    await this.flush();
  }

  private schedule(): void {
    if (this.timer || this.stopping) return;
    this.timer = setTimeout(() => { this.timer = undefined; void this.flush(); }, this.flushIntervalMs);
    this.timer.unref();
  }

  private async write(uses: Map<string, number>, humans: Map<string, { use: HumanUse; attempts: number }>): Promise<void> {
    for (const [key, pending] of humans) {
      try {
        await recordHumanUse(this.ctx, pending.use);
        this.stats.findingsWritten += 1;
      } catch (error) {
        this.failed(error);
        // A newer attempt noted meanwhile carries fresher evidence and replaces this one.
        if (pending.attempts + 1 < FINDING_ATTEMPTS && !this.humanUses.has(key)) {
          this.humanUses.set(key, { use: pending.use, attempts: pending.attempts + 1 });
          this.schedule();
        } else this.stats.dropped += 1;
      }
    }
    if (uses.size > 0) await this.writeLastUse(uses);
  }

  /**
   * One UPDATE for the batch; GREATEST ignores a NULL last use and never moves one back. Not an audit
   * event: a use is telemetry, like an access event, and would otherwise flood the chain and the feed.
   */
  private async writeLastUse(uses: Map<string, number>): Promise<void> {
    const rows = [...uses].map(([id, at]) => ({ id, at: new Date(at).toISOString() }));
    try {
      await this.ctx.store.db.execute(sql`
        UPDATE credentials c SET last_used_at = GREATEST(c.last_used_at, u.at)
        FROM json_to_recordset(${JSON.stringify(rows)}::json) AS u(id uuid, at timestamptz)
        WHERE c.id = u.id AND c.status = 'active'`);
      this.stats.usesWritten += rows.length;
    } catch (error) {
      this.stats.dropped += rows.length;
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    this.stats.failedWrites += 1;
    this.options.onError?.(error as Error);
  }
}
