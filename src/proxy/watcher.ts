/**
 * The one way a proxied session is held to its grant, whatever the protocol. Every watch interval
 * the decision index is brought current (the change feed and polling keep it so between) and each
 * open session's grant is asked about again: a deny ends the session, naming why; a grant that ends
 * within the notice period gets the client a warning first. A stale index ends nothing (the target's
 * own removal still does), but the proxies refuse new sessions while it is stale.
 */
import { eq } from 'drizzle-orm';
import type { CheckRequest, DecisionService } from '../decision/service.js';
import type { ProxyEndReason } from '../domain/proxy-recording.js';
import { grants } from '../store/schema.js';
import type { Context } from '../work/context.js';

/** What the watcher needs of a session, PostgreSQL or SSH. */
export interface WatchedSession {
  readonly identityId: string;
  readonly grantId: string;
  readonly entitlement: string;
  /** The context the session was allowed with (what the proxy knows itself, e.g. the sign-in's MFA). */
  readonly context?: CheckRequest['context'];
  /** Ends the session once, telling the client `message` when it did not leave itself. */
  end(reason: ProxyEndReason, message?: string): Promise<void>;
  /** One warning to the client, shown between whole messages. */
  notice(text: string): void;
}

export const ENDED_BECAUSE: Record<ProxyEndReason, string> = {
  grant_ended: 'your grant has ended', grant_revoked: 'your grant was revoked', identity_inactive: 'your account is no longer active',
  access_denied: 'access is no longer allowed', client_closed: '', upstream_closed: '', protocol_error: '', proxy_stopped: 'the proxy is stopping',
};

/** A revoked grant and one that ran out both read `grant_ended` to the index; the row tells them apart. */
const endReason = async (ctx: Context, grantId: string, reason: string): Promise<ProxyEndReason> => {
  if (reason === 'identity_inactive') return 'identity_inactive';
  if (reason !== 'grant_ended') return 'access_denied';
  const [grant] = await ctx.store.db.select({ status: grants.status }).from(grants).where(eq(grants.id, grantId));
  return grant?.status === 'revoked' ? 'grant_revoked' : 'grant_ended';
};

export interface WatcherOptions {
  ctx: Context;
  decision: DecisionService;
  intervalMs: number;
  noticeBeforeMs: number;
  onError: (error: Error) => void;
}

export class SessionWatcher<S extends WatchedSession> {
  readonly sessions = new Set<S>();
  /** Ends being committed, so stop() can wait for them. */
  private readonly pending = new Set<Promise<unknown>>();
  private watching = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: WatcherOptions) {
    this.timer = setInterval(() => { void this.watch(); }, options.intervalMs);
    this.timer.unref();
  }

  /** Keeps a promise (a handshake, an end) until it settles, so stop() waits for it. */
  track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work)).catch(() => undefined);
  }

  /** Ends every open session (`proxy_stopped`) and waits for their ends to be committed. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.sessions].map((s) => s.end('proxy_stopped', ENDED_BECAUSE.proxy_stopped)));
    await Promise.allSettled([...this.pending]);
  }

  private async watch(): Promise<void> {
    if (this.watching || this.sessions.size === 0) return;
    this.watching = true;
    try {
      await this.options.decision.sync();
      const now = this.options.ctx.clock.now();
      for (const session of [...this.sessions]) await this.review(session, now);
    } catch (error) {
      this.options.onError(error as Error);
    } finally {
      this.watching = false;
    }
  }

  private async review(session: S, now: Date): Promise<void> {
    const answer = this.options.decision.check(
      { identity: session.identityId, entitlement: session.entitlement, ...(session.context ? { context: session.context } : {}) }, now);
    if (answer.decision === 'deny') {
      if (answer.reason === 'index_stale') return;
      const reason = await endReason(this.options.ctx, session.grantId, answer.reason);
      // A condition the session no longer meets (its MFA grew too old, its address is no longer allowed) is named.
      const why = reason === 'access_denied' ? `${ENDED_BECAUSE[reason]} (${answer.reason})` : ENDED_BECAUSE[reason];
      this.track(session.end(reason, `Tenure: ${why}; the session is closed`));
      return;
    }
    const endsAt = answer.grant?.endsAt;
    if (endsAt && endsAt.getTime() - now.getTime() <= this.options.noticeBeforeMs) {
      session.notice(`Tenure: your grant of ${session.entitlement} ends at ${endsAt.toISOString()}; this session will be closed then`);
    }
  }
}
