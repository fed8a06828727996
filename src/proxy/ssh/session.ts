/**
 * One proxied SSH connection: admitted (authenticate.ts), connected upstream as the grant's account
 * (upstream.ts), recorded as an asciicast (every channel of the connection in one recording), and
 * ended by the watcher at the grant's end. Local forwarding to a destination the grant's entitlement
 * lists is relayed (forwarding.ts); any other forwarding is refused and the refusal recorded. File
 * transfers (SFTP, scp) are relayed and recorded by operation (file-transfer.ts) unless refused. The
 * session row and `proxy_session.started` commit before the client is told it is in.
 */
import type { Connection, ServerChannel } from 'ssh2';
import type ssh2 from 'ssh2';
import { asciicastEvent, asciicastHeader, type AsciicastCode } from '../../domain/asciicast.js';
import type { DecisionContext } from '../../domain/decision-conditions.js';
import type { ProxyEndReason } from '../../domain/proxy-recording.js';
import { endProxySession } from '../../operations/end-proxy-session.js';
import type { SshProxyLogin } from '../../operations/resolve-ssh-proxy-login.js';
import { startProxySession } from '../../operations/start-proxy-session.js';
import type { Context } from '../../work/context.js';
import { RecordingWriter } from '../recording-writer.js';
import type { WatchedSession } from '../watcher.js';
import { serveSessionChannel, type ChannelHost, type ChannelTap } from './channel.js';
import { serveForwarding, type Forward, type ForwardingHost } from './forwarding.js';

/** How long the end waits for the client to close its channels before it closes the connection. */
const CHANNEL_CLOSE_WAIT_MS = 1000;

export interface SshSessionDeps { ctx: Context; recordFlushMs: number; onError: (error: Error) => void }

export class SshSession implements WatchedSession, ChannelHost, ForwardingHost {
  readonly channels = new Set<ServerChannel>();
  readonly forwards = new Set<Forward>();
  readonly taps = new Set<ChannelTap>();
  private ended = false;
  private noticed = false;
  private readonly started = performance.now();
  private readonly recording: RecordingWriter;

  private constructor(
    readonly id: string, private readonly login: SshProxyLogin, readonly grantId: string, readonly context: DecisionContext,
    private readonly client: Connection, readonly upstream: ssh2.Client, private readonly deps: SshSessionDeps,
    private readonly onEnd: (session: SshSession) => void,
  ) {
    this.recording = new RecordingWriter(deps.ctx, id, deps.recordFlushMs, deps.onError);
  }

  get identityId(): string { return this.login.identityId; }
  get entitlement(): string { return this.login.entitlementKey; }
  get forwarding(): readonly string[] { return this.login.forwarding; }
  get fileTransfer(): boolean { return this.login.fileTransfer; }
  get ending(): boolean { return this.ended; }

  /** Records the session's start (row and audit event together) under `id`, which the upstream certificate already names; the caller then lets the client in. */
  static async begin(
    deps: SshSessionDeps, id: string, admitted: { login: SshProxyLogin; grantId: string; context: DecisionContext }, client: Connection, upstream: ssh2.Client,
    clientAddress: string, onEnd: (session: SshSession) => void,
  ): Promise<SshSession> {
    const { login } = admitted;
    await startProxySession({ ...deps.ctx, actor: { id: login.identityId, channel: 'api' } }, {
      id, protocol: 'ssh', identityId: login.identityId, handle: login.handle, grantId: admitted.grantId, entitlement: login.entitlementKey,
      clientAddress, target: { systemId: login.systemId, systemKey: login.systemKey, entitlementId: login.entitlementId,
        account: `${login.account}@${login.host.name}`, role: login.account },
    });
    const session = new SshSession(id, login, admitted.grantId, admitted.context, client, upstream, deps, onEnd);
    session.recording.add(asciicastHeader({ width: 80, height: 24, startedAt: deps.ctx.clock.now(),
      title: `${login.handle} as ${login.account}@${login.host.name}` }));
    return session;
  }

  /** Once the client is in: its channels are served, forwarding allowed or refused, and either side's close ends the session. */
  serve(): void {
    this.client.on('session', (accept) => { if (!this.ended) serveSessionChannel(this, accept()); });
    this.client.on('tcpip', (accept, reject, info) => { if (this.ended) reject(); else serveForwarding(this, accept, reject, info); });
    this.client.on('openssh.streamlocal', (_accept, reject, info) => { this.record('m', `refused: forwarding to ${info.socketPath}`); reject(); });
    this.client.on('request', (_accept, reject, name) => { this.record('m', `refused: ${name}`); reject?.(); });
    this.client.on('close', () => { void this.end('client_closed'); });
    this.upstream.on('close', () => { void this.end('upstream_closed'); });
    this.upstream.on('error', () => undefined);
  }

  record(code: AsciicastCode, data: string): void {
    if (this.ended || data === '') return;
    this.recording.add(asciicastEvent(performance.now() - this.started, code, data));
  }

  recordingBehind(): Promise<void> | undefined {
    return this.recording.behind ? this.recording.caughtUp() : undefined;
  }

  /** Shown on every open terminal, once. */
  notice(text: string): void {
    if (this.ended || this.noticed) return;
    this.noticed = true;
    this.record('m', text);
    for (const channel of this.channels) channel.stderr.write(`\r\n${text}\r\n`);
  }

  async end(reason: ProxyEndReason, message?: string): Promise<void> {
    if (this.ended) return;
    // Forwarded channels carry no message to wait for: closed at once, their markers before the end's.
    for (const forward of [...this.forwards]) forward.close();
    // What open channels add up to (a file transfer's files left open, input counted) comes before the end too.
    for (const tap of this.taps) tap.finish();
    this.record('m', `ended: ${reason}`);
    this.ended = true;
    // The terminals are told and closed first, and the connection only after they close (or a
    // second): ending it at once could drop the message still queued in a channel.
    const closed = [...this.channels].map((channel) => new Promise((resolve) => channel.once('close', resolve)));
    for (const channel of this.channels) {
      if (message) channel.stderr.write(`\r\n${message}\r\n`);
      channel.exit(255);
      channel.end();
    }
    await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, CHANNEL_CLOSE_WAIT_MS).unref())]);
    this.client.end();
    this.upstream.end();
    const recording = await this.recording.finish();
    await endProxySession({ ...this.deps.ctx, actor: { id: undefined, channel: 'system' } },
      { id: this.id, reason, statements: recording.lines, recordingSha256: recording.sha256 })
      .catch((error: unknown) => this.deps.onError(error as Error));
    this.onEnd(this);
  }
}
