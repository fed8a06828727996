/**
 * The decision point of one process: an in-memory index loaded at start and kept current from the
 * audit log (the change feed), answering checks synchronously in microseconds. It fails closed: when
 * a refresh fails, or the last good one is older than the staleness bound, privileged entitlements
 * are denied (`index_stale`) and `ready()` is false. See docs/decision-point.md.
 */
import { decide, type Decision, type DecisionFacts, type DecisionReason, type DecisionWarning } from '../domain/decision.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { observeDecision } from '../metrics/process.js';
import { loadConnectionSettings, type ConnectionSettings } from '../store/connection-settings.js';
import type { Store } from '../store/database.js';
import { AccessLog, parseAccessLogMode, type AccessLogMode, type AccessLogStats } from './access-log.js';
import { listenForChanges, type ChangeFeed } from './change-feed.js';
import { CredentialUse, type CredentialUseStats } from './credential-use.js';
import type { CheckQuery, DecisionIndex, EntitlementEntry } from './index.js';
import { loadChanges, loadIndex } from './loader.js';

export interface DecisionConfig {
  /** How often the index reads the audit log when no notification came (and so how fresh it proves to be). */
  pollIntervalMs: number;
  /** How old the last good refresh may be before privileged access is refused and the process is not ready. */
  stalenessMs: number;
  accessLog: AccessLogMode;
}

const positive = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name}: '${value}' is not a positive number of milliseconds`);
  return parsed;
};

/** TENURE_DECISION_POLL_MS (1000), TENURE_DECISION_STALE_MS (5000), TENURE_ACCESS_LOG (none). */
export const loadDecisionConfig = (env: NodeJS.ProcessEnv = process.env): DecisionConfig => {
  const pollIntervalMs = positive('TENURE_DECISION_POLL_MS', env.TENURE_DECISION_POLL_MS, 1000);
  const stalenessMs = positive('TENURE_DECISION_STALE_MS', env.TENURE_DECISION_STALE_MS, 5000);
  if (stalenessMs <= pollIntervalMs) {
    throw new Error(`TENURE_DECISION_STALE_MS (${stalenessMs}) must be longer than TENURE_DECISION_POLL_MS (${pollIntervalMs}), or the index is stale between polls`);
  }
  return { pollIntervalMs, stalenessMs, accessLog: parseAccessLogMode(env.TENURE_ACCESS_LOG) };
};

export interface DecisionServiceOptions extends Partial<DecisionConfig> {
  store: Store;
  clock?: Clock;
  /** A PostgreSQL server's URL, never a transaction pooler's: changes made by other processes arrive by LISTEN/NOTIFY. Without it, by polling only. */
  databaseUrl?: string | undefined;
  /** Timeouts and heartbeat of the LISTEN connection (default: from the environment). */
  connection?: ConnectionSettings | undefined;
  /** How long ended grants are kept, so a recent end answers `grant_ended` rather than `no_grant` (default 7 days). */
  endedRetentionMs?: number;
  /** Polling off (tests that prove the notification path alone); production always polls. */
  poll?: boolean;
  /** How often credential uses and human-use findings noted by answers are written (default 1 s). */
  credentialUseFlushMs?: number;
  onError?: (error: Error) => void;
}

export type CheckRequest = CheckQuery;

/**
 * The first load, from the replica when there is one. Why that misses nothing: the index is current
 * to the highest audit seq in the replica's own snapshot (loadIndex reads both in one REPEATABLE READ
 * transaction), and the catch-up then reads from the primary every event after that seq, and the
 * identities they name, as every refresh does. Every change the index depends on commits with an
 * audit event, and seq is assigned under the audit head lock, held to commit, so seq order is commit
 * order, and a standby's snapshot (which shows commits in the primary's WAL order) holds every event
 * up to its highest seq and none after. So a watermark in audit seqs, read where the rows were read,
 * needs no comparison of WAL positions between the two servers, and stays right however far the
 * replica lags (replay paused included): only the catch-up grows. A replica that cannot be read
 * (down, a query cancelled by a recovery conflict) costs a load from the primary, never the start.
 */
const firstLoad = async (options: DecisionServiceOptions, endedSince: Date) => {
  const { reads, db } = options.store;
  if (reads) {
    try {
      return { ...(await loadIndex(reads, { endedSince })), fromReplica: true };
    } catch (error) {
      options.onError?.(new Error(`the decision index could not be loaded from the read replica, so from the primary: ${(error as Error).message}`));
    }
  }
  return { ...(await loadIndex(db, { endedSince })), fromReplica: false };
};

export interface CheckAnswer {
  decision: 'allow' | 'deny';
  reason: DecisionReason;
  /** The entitlement the answer is about (for system + action: the one that allowed, or explains the deny). */
  entitlement: string | null;
  grant: { id: string; endsAt: Date | null } | null;
  warnings: DecisionWarning[];
  evaluatedAt: Date;
}

export interface DecisionStatus {
  ready: boolean;
  stale: boolean;
  /** The audit position the index is current to. */
  seq: number;
  lastRefreshAt: Date | null;
  lastError: string | null;
  listening: boolean;
  sizes: ReturnType<DecisionIndex['sizes']>;
  accessLog: AccessLogStats;
  credentialUse: CredentialUseStats;
}

const DEFAULT_RETENTION_MS = 7 * 24 * 3_600_000;

const systemKeyOf = (request: CheckRequest, d: Decision): string | null =>
  request.system ?? (d.entitlement as EntitlementEntry | null)?.systemKey ?? null;

export class DecisionService {
  private seq: number;
  private lastOkAt: number;
  private credentialChanges = 0;
  private failing: Error | null = null;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private feed: ChangeFeed | undefined;
  private stopped = false;

  private constructor(
    private index: DecisionIndex, seq: number, loadedAt: number,
    private readonly options: DecisionServiceOptions & DecisionConfig & { clock: Clock },
    private readonly accessLog: AccessLog,
    private readonly credentialUse: CredentialUse,
  ) {
    this.seq = seq;
    this.lastOkAt = loadedAt;
  }

  /** Loads the index, then keeps it current: LISTEN on a server (when `databaseUrl` is given) and polling. */
  static async start(options: DecisionServiceOptions): Promise<DecisionService> {
    const defaults = loadDecisionConfig({});
    const full = {
      ...options, clock: options.clock ?? systemClock, pollIntervalMs: options.pollIntervalMs ?? defaults.pollIntervalMs,
      stalenessMs: options.stalenessMs ?? defaults.stalenessMs, accessLog: options.accessLog ?? defaults.accessLog,
    };
    const loadedAt = full.clock.now();
    const endedSince = new Date(loadedAt.getTime() - (options.endedRetentionMs ?? DEFAULT_RETENTION_MS));
    const { index, seq, fromReplica } = await firstLoad(options, endedSince);
    const log = new AccessLog(options.store.db, full.accessLog, { ...(options.onError ? { onError: options.onError } : {}) });
    const onError = options.onError ? { onError: options.onError } : {};
    const use = new CredentialUse({ store: options.store, clock: full.clock, actor: { id: undefined, channel: 'system' } },
      { ...onError, ...(options.credentialUseFlushMs ? { flushIntervalMs: options.credentialUseFlushMs } : {}) });
    // Loaded from a replica, the index is current to some moment before `loadedAt`: never proven
    // fresh (so failing closed) until the catch-up from the primary below has succeeded.
    const service = new DecisionService(index, seq, fromReplica ? 0 : loadedAt.getTime(), full, log, use);
    if (options.poll !== false) {
      service.timer = setInterval(() => { void service.sync(); }, full.pollIntervalMs);
      service.timer.unref();
    }
    if (options.databaseUrl && options.store.backend === 'postgres') {
      service.feed = await listenForChanges({
        url: options.databaseUrl, connection: options.connection ?? loadConnectionSettings(), onChange: () => { void service.sync(); },
        ...(options.onError ? { onError: options.onError } : {}),
      });
    }
    if (fromReplica) await service.catchUp();
    return service;
  }

  /**
   * After a load from the replica: every change the primary committed after the replica's snapshot,
   * read from the primary before the first answer. Run once LISTEN is up, so a change committed
   * after this read is notified; a failure stops the start, as a failed load from the primary would.
   */
  private async catchUp(): Promise<void> {
    await this.sync();
    if (this.failing) {
      await this.stop();
      throw this.failing;
    }
  }

  /** The answer, from memory; the caller's `now` (default: the clock) decides windows and hours. */
  check(request: CheckRequest, now: Date = this.options.clock.now()): CheckAnswer {
    const started = performance.now();
    const at = now.getTime();
    const facts = this.index.facts(request, at, this.isStale(at));
    const d = decide(facts);
    const answer: CheckAnswer = {
      decision: d.decision, reason: d.reason, entitlement: d.entitlement?.key ?? null, grant: d.grant,
      warnings: d.warnings, evaluatedAt: now,
    };
    if (this.accessLog.enabled) {
      this.accessLog.record({
        at: now, identityId: facts.identity?.id ?? null, entitlementKey: answer.entitlement ?? request.entitlement ?? null,
        systemKey: systemKeyOf(request, d), action: request.action ?? null,
        allowed: d.decision === 'allow', reason: d.reason, grantId: d.grant?.id ?? null, context: request.context,
      });
    }
    if (facts.credential !== undefined || d.reason === 'human_use_of_service_account') this.noteCredentialUse(request, facts, d, now);
    observeDecision(d.decision, d.reason, (performance.now() - started) / 1000);
    return answer;
  }

  /** Writes what answers so far have noted (credential uses, human-use findings, access events). */
  async flushNoted(): Promise<void> {
    await this.credentialUse.flush();
    await this.accessLog.flush();
  }

  /**
   * Applies every change committed before the call. Concurrent calls share a refresh, but a call made
   * while one is running waits for a new one (that one may have read the log before the caller's
   * commit). Never rejects: a failure is recorded and makes the index stale until a refresh succeeds.
   */
  sync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!this.running) return this.startRefresh();
    this.queued ??= this.running.then(() => { this.queued = undefined; return this.stopped ? undefined : this.startRefresh(); });
    return this.queued;
  }

  /** False until the index is proven current within the staleness bound (wire to /readyz). */
  ready(): boolean {
    return !this.stopped && !this.isStale(this.options.clock.now().getTime());
  }

  /**
   * Moves on whenever the change feed shows a token revoked, a session ended, an identity's status
   * or roles changed: callers remembered under an older value must be looked up again. Undefined
   * while the index is stale, so nothing remembered is trusted when changes might be missed.
   */
  credentialEpoch(): number | undefined {
    return this.ready() ? this.credentialChanges : undefined;
  }

  status(): DecisionStatus {
    const stale = this.isStale(this.options.clock.now().getTime());
    return {
      ready: !this.stopped && !stale, stale, seq: this.seq, lastRefreshAt: new Date(this.lastOkAt),
      lastError: this.failing?.message ?? null, listening: this.feed?.listening() ?? false,
      sizes: this.index.sizes(), accessLog: this.accessLog.counts(), credentialUse: this.credentialUse.counts(),
    };
  }

  /** Stops polling and listening, waits for a refresh in flight and writes the access events left. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.feed?.stop();
    await this.queued;
    await this.running;
    await this.accessLog.stop();
    await this.credentialUse.stop();
  }

  /**
   * An allowed use of a registered credential by its holder is its last use. A deny for human use, or
   * a person presenting a service account's credential, is reported on that service account; another
   * borrowed credential (a person's, or one service account's presented by another) is only denied.
   */
  private noteCredentialUse(request: CheckRequest, facts: DecisionFacts, d: Decision, now: Date): void {
    const identity = facts.identity;
    if (identity === undefined) return;
    if (d.decision === 'allow') {
      if (facts.credential) this.credentialUse.used(facts.credential.id, now);
      return;
    }
    const { reason } = d;
    if (reason !== 'human_use_of_service_account' && reason !== 'credential_not_owned') return;
    let serviceAccountId: string | undefined = identity.id;
    if (reason === 'credential_not_owned') {
      const holder = identity.kind === 'service_account' || !facts.credential ? undefined : this.index.identityById(facts.credential.identityId);
      serviceAccountId = holder?.kind === 'service_account' ? holder.id : undefined;
    }
    if (serviceAccountId === undefined) return;
    this.credentialUse.humanUse({
      at: now, reason, serviceAccountId, askedAboutId: identity.id,
      credentialId: facts.credential?.id ?? null, entitlementKey: d.entitlement?.key ?? request.entitlement ?? null,
      systemKey: systemKeyOf(request, d), action: request.action ?? null, context: request.context,
    });
  }

  private isStale(now: number): boolean {
    return this.failing !== null || now - this.lastOkAt > this.options.stalenessMs;
  }

  private startRefresh(): Promise<void> {
    const run = this.refresh().finally(() => { if (this.running === run) this.running = undefined; });
    this.running = run;
    return run;
  }

  private async refresh(): Promise<void> {
    const startedAt = this.options.clock.now().getTime();
    const endedSince = new Date(startedAt - (this.options.endedRetentionMs ?? DEFAULT_RETENTION_MS));
    try {
      const changes = await loadChanges(this.options.store, this.index, this.seq, { endedSince });
      changes.apply();
      this.seq = changes.seq;
      if (changes.credentials) this.credentialChanges += 1;
      this.lastOkAt = startedAt;
      this.failing = null;
    } catch (error) {
      if (this.stopped) return;
      this.failing = error as Error;
      this.options.onError?.(error as Error);
    }
  }
}
