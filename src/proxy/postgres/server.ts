/**
 * `tenure proxy postgres`: the listener, and the watcher that ends sessions. Every watch interval
 * the decision index is brought current (the change feed and polling keep it so between) and each
 * open session's grant is asked about again: a deny ends the session, naming why; a grant that ends
 * within the notice period gets the client a warning first. A stale index ends nothing (the target's
 * own removal, which terminates the account's backends, still does), but refuses new sessions.
 */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { eq } from 'drizzle-orm';
import type { DecisionService } from '../../decision/service.js';
import type { ProxyEndReason } from '../../domain/proxy-recording.js';
import { grants } from '../../store/schema.js';
import type { Context } from '../../work/context.js';
import type { PgProxyConfig } from './config.js';
import { PgSession, type ProxyDeps } from './session.js';

const endReason = async (ctx: Context, session: PgSession, reason: string): Promise<ProxyEndReason> => {
  if (reason === 'identity_inactive') return 'identity_inactive';
  if (reason !== 'grant_ended') return 'access_denied';
  const [grant] = await ctx.store.db.select({ status: grants.status }).from(grants).where(eq(grants.id, session.grantId));
  return grant?.status === 'revoked' ? 'grant_revoked' : 'grant_ended';
};

/** Read once at start, so a missing or unreadable certificate stops the proxy before it listens. */
const clientTls = (config: PgProxyConfig): SecureContext | undefined =>
  config.tlsCert && config.tlsKey ? createSecureContext({ cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) }) : undefined;

const ENDED_BECAUSE: Record<ProxyEndReason, string> = {
  grant_ended: 'your grant has ended', grant_revoked: 'your grant was revoked', identity_inactive: 'your account is no longer active',
  access_denied: 'access is no longer allowed', client_closed: '', upstream_closed: '', protocol_error: '', proxy_stopped: 'the proxy is stopping',
};

export class PgProxyServer {
  private readonly sessions = new Set<PgSession>();
  private readonly handshakes = new Set<Socket>();
  private readonly pending = new Set<Promise<unknown>>();
  private watching = false;
  private readonly timer: NodeJS.Timeout;

  private constructor(private readonly server: Server, private readonly deps: ProxyDeps) {
    this.timer = setInterval(() => { void this.watch(); }, deps.config.watchIntervalMs);
    this.timer.unref();
  }

  static async start(
    options: { ctx: Context; decision: DecisionService; config: PgProxyConfig; host: string; port: number; onError?: (error: Error) => void },
  ): Promise<PgProxyServer> {
    const deps: ProxyDeps = { ctx: options.ctx, decision: options.decision, config: options.config, onError: options.onError ?? (() => undefined),
      cancelTargets: new Map(), tls: clientTls(options.config) };
    const server = createServer({ noDelay: true });
    const proxy = new PgProxyServer(server, deps);
    server.on('connection', (socket) => proxy.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => { server.off('error', reject); resolve(); });
    });
    return proxy;
  }

  address(): { host: string; port: number } {
    const address = this.server.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  openSessions(): number { return this.sessions.size; }

  /** Stops listening, ends every open session (`proxy_stopped`) and waits for their ends to be committed. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.handshakes) socket.destroy();
    await Promise.all([...this.sessions].map((s) => s.end('proxy_stopped', ENDED_BECAUSE.proxy_stopped)));
    await Promise.allSettled([...this.pending]);
    await closed;
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    this.handshakes.add(socket);
    const accepted = PgSession.accept(socket, this.deps, (s) => this.sessions.delete(s)).then((session) => {
      this.handshakes.delete(socket);
      if (session) this.sessions.add(session);
    }, (error: unknown) => { this.handshakes.delete(socket); socket.destroy(); this.deps.onError(error as Error); });
    this.pending.add(accepted);
    void accepted.finally(() => this.pending.delete(accepted));
  }

  private async watch(): Promise<void> {
    if (this.watching || this.sessions.size === 0) return;
    this.watching = true;
    try {
      await this.deps.decision.sync();
      const now = this.deps.ctx.clock.now();
      for (const session of [...this.sessions]) await this.review(session, now);
    } catch (error) {
      this.deps.onError(error as Error);
    } finally {
      this.watching = false;
    }
  }

  private async review(session: PgSession, now: Date): Promise<void> {
    // With the context the session was let in with: asked without it, a condition such as MFA would end it.
    const answer = this.deps.decision.check({ identity: session.identityId, entitlement: session.entitlement, context: session.context }, now);
    if (answer.decision === 'deny') {
      if (answer.reason === 'index_stale') return;
      const reason = await endReason(this.deps.ctx, session, answer.reason);
      const ending = session.end(reason, `Tenure: ${ENDED_BECAUSE[reason]}; the session is closed`);
      this.pending.add(ending);
      void ending.finally(() => this.pending.delete(ending));
      return;
    }
    const endsAt = answer.grant?.endsAt;
    if (endsAt && endsAt.getTime() - now.getTime() <= this.deps.config.noticeBeforeMs) {
      session.notice(`Tenure: your grant of ${session.entitlement} ends at ${endsAt.toISOString()}; this session will be closed then`);
    }
  }
}
