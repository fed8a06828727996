/**
 * `tenure proxy ssh`: the listener. A client has `handshakeTimeoutMs` to be admitted; a refused one
 * gets no session and is disconnected after a few tries, like sshd. Garbage, an unknown protocol or
 * an oversized packet is a protocol error that closes that connection only (ssh2 parses the wire).
 * Open sessions are held to their grants by the shared watcher (proxy/watcher.ts).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { Connection } from 'ssh2';
import type { DecisionService } from '../../decision/service.js';
import { TenureError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import type { SshProxyLogin } from '../../operations/resolve-ssh-proxy-login.js';
import type { Context } from '../../work/context.js';
import { addressOf, listen } from '../listener.js';
import { SessionWatcher } from '../watcher.js';
import { admit } from './authenticate.js';
import type { SshProxyConfig } from './config.js';
import { SshSession } from './session.js';
import { openUpstream } from './upstream.js';
import { refuseUserCaAsUpstream } from './upstream-ca-check.js';
import { mintUpstreamCertificate } from './upstream-certificate.js';

/** Refused attempts a connection may make, as sshd's MaxAuthTries. */
const MAX_REFUSALS = 6;

export interface SshProxyOptions { ctx: Context; decision: DecisionService; config: SshProxyConfig; host: string; port: number; onError?: (error: Error) => void }

export class SshProxyServer {
  /** Connections not admitted yet, by client address: each is cut at the handshake deadline. */
  private readonly handshakes = new Map<string, { socket: Socket; timer: NodeJS.Timeout }>();

  private constructor(private readonly server: Server, private readonly ssh: ssh2.Server, private readonly options: SshProxyOptions & { onError: (error: Error) => void },
    private readonly watcher: SessionWatcher<SshSession>) {}

  static async start(options: SshProxyOptions): Promise<SshProxyServer> {
    const settled = { ...options, onError: options.onError ?? (() => undefined) };
    // A CA key that is exposed, encrypted or unreadable stops the proxy here, not at each sign-in.
    // So does one that is also a user CA: people's own certificates would open the hosts.
    if (options.config.upstreamCaKeyPath !== undefined) await refuseUserCaAsUpstream(options.ctx.store.db, options.config.upstreamCaKeyPath, options.ctx.clock.now());
    const watcher = new SessionWatcher<SshSession>({ ctx: options.ctx, decision: options.decision, intervalMs: options.config.watchIntervalMs,
      noticeBeforeMs: options.config.noticeBeforeMs, onError: settled.onError });
    const ssh = new ssh2.Server({ hostKeys: [readFileSync(options.config.hostKeyPath)], ident: 'Tenure' });
    // Our own listener: ssh2 tells of a connection only once the client has sent its banner, so a
    // client that sends nothing would otherwise hold its socket for ever.
    const server = createServer({ noDelay: true });
    const proxy = new SshProxyServer(server, ssh, settled, watcher);
    server.on('connection', (socket) => proxy.take(socket));
    ssh.on('connection', (client, info) => proxy.accept(client, info.ip, info.port));
    await listen(server, options.host, options.port);
    return proxy;
  }

  address(): { host: string; port: number } { return addressOf(this.server); }

  openSessions(): number { return this.watcher.sessions.size; }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const { socket, timer } of this.handshakes.values()) { clearTimeout(timer); socket.destroy(); }
    await this.watcher.stop();
    await closed;
  }

  private take(socket: Socket): void {
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    const timer = setTimeout(() => socket.destroy(), this.options.config.handshakeTimeoutMs);
    this.handshakes.set(key, { socket, timer });
    socket.on('error', () => undefined);
    socket.on('close', () => { clearTimeout(timer); this.handshakes.delete(key); });
    this.ssh.injectSocket(socket);
  }

  private accept(client: Connection, ip: string, port: number): void {
    const clientAddress = `${ip}:${port}`;
    const done = () => {
      const pending = this.handshakes.get(clientAddress);
      clearTimeout(pending?.timer);
      this.handshakes.delete(clientAddress);
    };
    client.on('error', () => undefined);
    let refusals = 0;
    let admitting = false;
    client.on('authentication', (auth) => {
      // One attempt at a time: the client waits for each answer, so a second one now is a misbehaving client.
      if (admitting) { auth.reject(); return; }
      admitting = true;
      this.watcher.track(this.authenticate(auth, client, { ip, address: clientAddress }, done).then((outcome) => {
        admitting = false;
        if (outcome === 'refused' && (refusals += 1) >= MAX_REFUSALS) client.end();
      }, (error: unknown) => { admitting = false; this.options.onError(error as Error); auth.reject(); }));
    });
  }

  /**
   * With a certificate minted for this session when an upstream CA is configured, else with the plain
   * upstream key. The certificate's source address is the configured list, else the address this
   * session's own connection to the host leaves from.
   */
  private async signInUpstream(login: SshProxyLogin, sessionId: string): Promise<ssh2.Client> {
    const { ctx, config } = this.options;
    const caKeyPath = config.upstreamCaKeyPath;
    if (caKeyPath === undefined) return openUpstream(login, config.upstreamTimeoutMs);
    return openUpstream(login, config.upstreamTimeoutMs, (localAddress) =>
      mintUpstreamCertificate(ctx.store, caKeyPath, login, sessionId, config.sourceAddresses ?? [localAddress]));
  }

  /**
   * `admitted` is called once the client has proved who it is: the host's own time to let the proxy in is not the client's handshake.
   * `again`: this is the second try after the session's start found the chosen grant ended.
   * `peer`: the client's IP address (asked about by source_cidrs) and `ip:port` (recorded on the session).
   */
  private async authenticate(auth: ssh2.AuthContext, client: Connection, peer: { ip: string; address: string }, admitted: () => void, again = false)
    : Promise<'pending' | 'refused' | 'admitted'> {
    const { ctx, decision, config } = this.options;
    const admission = await admit(ctx, decision, auth, peer.ip);
    if (admission === 'key_acceptable') { auth.accept(); return 'pending'; }
    if ('refused' in admission) { auth.reject(['publickey']); return 'refused'; }
    admitted();
    // The id is taken now: the upstream certificate names the session before its row exists.
    const sessionId = newId();
    const { login } = admission;
    const upstream = await this.signInUpstream(login, sessionId).catch((error: unknown) => {
      this.options.onError(new Error(`ssh proxy: ${login.host.name}: ${(error as Error).message}`));
      return undefined;
    });
    if (!upstream) { auth.reject(['publickey']); return 'refused'; }
    const session = await SshSession.begin({ ctx, recordFlushMs: config.recordFlushMs, onError: this.options.onError }, sessionId, admission, client, upstream,
      peer.address, (s) => this.watcher.sessions.delete(s)).catch((error: unknown) => {
      upstream.end();
      // The grant ended between the decision point's answer (from memory) and the session's row: a refusal, not a fault.
      if (error instanceof TenureError) return undefined;
      throw error;
    });
    if (!session) {
      // The index had not yet seen that grant end (it polls): refreshed, it may pick another live grant of the person's for this login.
      if (!again) { await decision.sync(); return this.authenticate(auth, client, peer, admitted, true); }
      auth.reject(['publickey']);
      return 'refused';
    }
    this.watcher.sessions.add(session);
    session.serve();
    auth.accept();
    return 'admitted';
  }
}
