/**
 * `tenure proxy postgres`: the listener. Open sessions are held to their grants by the shared
 * watcher (proxy/watcher.ts), which ends them at the grant's end, revocation or suspension.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { DecisionService } from '../../decision/service.js';
import type { Context } from '../../work/context.js';
import { addressOf, listen } from '../listener.js';
import { SessionWatcher } from '../watcher.js';
import type { PgProxyConfig } from './config.js';
import { PgSession, type ProxyDeps } from './session.js';

/** Read once at start, so a missing or unreadable certificate stops the proxy before it listens. */
const clientTls = (config: PgProxyConfig): SecureContext | undefined =>
  config.tlsCert && config.tlsKey ? createSecureContext({ cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) }) : undefined;

export class PgProxyServer {
  private readonly handshakes = new Set<Socket>();

  private constructor(private readonly server: Server, private readonly deps: ProxyDeps, private readonly watcher: SessionWatcher<PgSession>) {}

  static async start(
    options: { ctx: Context; decision: DecisionService; config: PgProxyConfig; host: string; port: number; onError?: (error: Error) => void },
  ): Promise<PgProxyServer> {
    const onError = options.onError ?? (() => undefined);
    const deps: ProxyDeps = { ctx: options.ctx, decision: options.decision, config: options.config, onError,
      cancelTargets: new Map(), tls: clientTls(options.config) };
    const watcher = new SessionWatcher<PgSession>({ ctx: options.ctx, decision: options.decision, intervalMs: options.config.watchIntervalMs,
      noticeBeforeMs: options.config.noticeBeforeMs, onError });
    const server = createServer({ noDelay: true });
    const proxy = new PgProxyServer(server, deps, watcher);
    server.on('connection', (socket) => proxy.accept(socket));
    await listen(server, options.host, options.port);
    return proxy;
  }

  address(): { host: string; port: number } { return addressOf(this.server); }

  openSessions(): number { return this.watcher.sessions.size; }

  /** Stops listening, ends every open session (`proxy_stopped`) and waits for their ends to be committed. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.handshakes) socket.destroy();
    await this.watcher.stop();
    await closed;
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    this.handshakes.add(socket);
    const sessions = this.watcher.sessions;
    this.watcher.track(PgSession.accept(socket, this.deps, (s) => sessions.delete(s)).then((session) => {
      this.handshakes.delete(socket);
      if (session) sessions.add(session);
    }, (error: unknown) => { this.handshakes.delete(socket); socket.destroy(); this.deps.onError(error as Error); }));
  }
}
