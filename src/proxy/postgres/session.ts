/**
 * One proxied PostgreSQL session: the client signs in as itself (its handle and a Tenure API token),
 * names the entitlement as its database, and is let through only while the decision point says its
 * grant is live. Every statement is recorded; the session is ended by the watcher (server.ts) at the
 * grant's end, and its end, reason and recording digest are committed with `proxy_session.ended`.
 */
import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { serialize } from 'pg-protocol';
import type { DecisionService } from '../../decision/service.js';
import type { DecisionContext } from '../../domain/decision-conditions.js';
import type { DecisionReason } from '../../domain/decision.js';
import { TenureError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { canonicalStatement, type ProxyEndReason } from '../../domain/proxy-recording.js';
import { authenticateToken } from '../../operations/lib/credentials/principal.js';
import { endProxySession } from '../../operations/end-proxy-session.js';
import { resolvePgProxyTarget } from '../../operations/resolve-proxy-target.js';
import { startProxySession } from '../../operations/start-proxy-session.js';
import { findIdentityById } from '../../store/queries/identities.js';
import type { Context } from '../../work/context.js';
import { CancelRequest, readLogin, type Login } from './handshake.js';
import { RecordingWriter } from '../recording-writer.js';
import { StatementRecorder } from './recorder.js';
import { openUpstream, relayCancel, UpstreamRefused, type Upstream } from './upstream.js';
import { authenticationOk, fatal, MessageReader, ProtocolError, readyForQuery, report, type Message } from './wire.js';
import type { PgProxyConfig } from './config.js';

export interface ProxyDeps {
  /** The system's context: store, clock; sessions act as the person who signed in. */
  ctx: Context;
  decision: DecisionService;
  config: PgProxyConfig;
  onError: (error: Error) => void;
  /** Open sessions' cancel keys → their target, so a cancel request reaches the right server. */
  cancelTargets: Map<string, { host: string; port: number }>;
  /** The proxy's certificate for clients; when set, clients must use TLS. */
  tls: SecureContext | undefined;
}

const codes = (types: string): ReadonlySet<number> => new Set([...types].map((t) => t.charCodeAt(0)));
/** What the relay reads of each side (recorder.ts): Terminate and what makes or runs a statement; what ends one. */
const FROM_CLIENT = codes('XQPBEC');
const FROM_SERVER = codes('CIsEZ');

/** Refused before any session exists: the client is told why and the connection closes. */
class Refusal extends Error { constructor(readonly code: string, message: string) { super(message); } }

/** What a refused client is told, for the reasons a person can act on; the others name the reason. */
const REFUSAL_ADVICE: Partial<Record<DecisionReason, string>> = {
  condition_mfa_required: 'requires MFA, and this token does not carry it: sign in to Tenure with MFA and create the token from that session',
  condition_mfa_too_old: 'requires a recent MFA, and this token\'s is older than the policy allows: sign in to Tenure with MFA again and create a new token',
};

const refusalOf = (login: Login, reason: DecisionReason): Refusal => {
  const advice = REFUSAL_ADVICE[reason];
  if (advice) return new Refusal('28000', `${login.database} ${advice} (${reason})`);
  return new Refusal('28000', reason.startsWith('condition_') ? `${login.user} may not use ${login.database} now (${reason})`
    : `${login.user} holds no live grant of ${login.database} now (${reason})`);
};

const authorize = async (deps: ProxyDeps, login: Login, sourceAddress: string | undefined) => {
  const now = deps.ctx.clock.now();
  const badLogin = new Refusal('28P01', `password authentication failed for user "${login.user}"`);
  const principal = await authenticateToken(deps.ctx.store, login.password, now).catch(() => { throw badLogin; });
  const identity = await findIdentityById(deps.ctx.store.db, principal.identityId);
  if (identity?.handle !== login.user) throw badLogin;
  // What the proxy knows itself, never what the client says: the token's own MFA and its time (see tokenCarriesMfa)
  // and the address the client's connection comes from (an entitlement's source_cidrs).
  const context: DecisionContext = { mfa: principal.mfa === true, mfaAt: principal.mfaAt?.getTime(), sourceAddress };
  const ask = () => deps.decision.check({ identity: identity.id, entitlement: login.database, context }, now);
  let answer = ask();
  // A grant approved a moment ago may not have reached the index yet: a login is rare, a refresh cheap.
  if (answer.decision !== 'allow') { await deps.decision.sync(); answer = ask(); }
  if (answer.decision !== 'allow' || !answer.grant) throw refusalOf(login, answer.reason);
  const target = await resolvePgProxyTarget(deps.ctx.store, login.database, identity.handle).catch((error: unknown) => {
    throw error instanceof TenureError ? new Refusal('3D000', error.message) : error;
  });
  return { principal, identity, grant: answer.grant, target, context };
};

export class PgSession {
  private ended = false;
  private noticed = false;
  /** The client said goodbye (Terminate): the target's close that follows is the client leaving, whichever socket closes first. */
  private terminated = false;
  private readonly recording: RecordingWriter;
  private readonly recorder: StatementRecorder;

  private constructor(
    readonly id: string, readonly identityId: string, readonly grantId: string, readonly entitlement: string,
    /** The context the session was let in with; the watcher asks again with the same, or it would end allowed sessions. */
    readonly context: DecisionContext,
    private readonly client: Socket, private readonly clientReader: MessageReader, private readonly upstream: Upstream,
    private readonly deps: ProxyDeps, keepParameters: boolean, private readonly onEnd: (session: PgSession) => void,
  ) {
    this.recording = new RecordingWriter(deps.ctx, id, deps.config.recordFlushMs, deps.onError);
    this.recorder = new StatementRecorder(keepParameters, () => deps.ctx.clock.now(), (s) => this.recording.add(canonicalStatement(s)));
  }

  /** Runs the handshake; resolves to the session, or to undefined when the client was refused (no session is recorded). */
  static async accept(plain: Socket, deps: ProxyDeps, onEnd: (session: PgSession) => void): Promise<PgSession | undefined> {
    const reader = new MessageReader(deps.config.maxMessageBytes);
    const conn = { socket: plain, tls: deps.tls };
    let upstream: Upstream | undefined;
    try {
      const login = await readLogin(conn, reader, deps.config.handshakeTimeoutMs);
      const client = conn.socket;
      const { principal, identity, grant, target, context } = await authorize(deps, login, plain.remoteAddress);
      upstream = await openUpstream(target, login.params, { timeoutMs: deps.config.upstreamTimeoutMs, maxMessageBytes: deps.config.upstreamMaxMessageBytes })
        .catch((error: unknown) => { throw error instanceof UpstreamRefused ? new Refusal(error.code, `the target refused the session: ${error.message}`) : error; });
      const id = newId();
      const actor = { id: identity.id, channel: 'api' as const, ...(principal.tokenId ? { tokenId: principal.tokenId } : {}) };
      await startProxySession({ ...deps.ctx, actor }, {
        id, protocol: 'postgres', identityId: identity.id, handle: identity.handle, grantId: grant.id, entitlement: login.database,
        clientAddress: `${client.remoteAddress}:${client.remotePort}`, target,
      }).catch((error: unknown) => { throw error instanceof TenureError ? new Refusal('28000', error.message) : error; });
      const session = new PgSession(id, identity.id, grant.id, login.database, context, client, reader, upstream, deps, target.parameters === 'keep', onEnd);
      if (upstream.cancelKey) deps.cancelTargets.set(upstream.cancelKey, { host: target.host, port: target.port });
      client.write(Buffer.concat([authenticationOk(), ...upstream.greeting, readyForQuery()]));
      session.relay();
      return session;
    } catch (error) {
      upstream?.socket.destroy();
      const client = conn.socket;
      if (!(error instanceof CancelRequest)) PgSession.refuse(client, error, deps);
      else {
        // Only a key of an open session is relayed: the target learns nothing from a guessed one.
        const to = deps.cancelTargets.get(error.key);
        if (to) relayCancel(to, error.packet);
        client.destroy();
      }
      return undefined;
    }
  }

  private static refuse(client: Socket, error: unknown, deps: ProxyDeps): void {
    if (error instanceof Refusal || error instanceof ProtocolError) client.end(fatal(error.code, error.message));
    else {
      deps.onError(error as Error);
      client.end(fatal('XX000', 'the proxy could not open the session'));
    }
  }

  /** Bytes pass through whole messages at a time, so the proxy may add a notice between any two. */
  private relay(): void {
    const { client, upstream } = this;
    const pipe = (from: Socket, to: Socket, reader: MessageReader, wanted: ReadonlySet<number>, observe: (m: Message) => void) => {
      const drain = (chunk?: Buffer) => {
        // Nothing passes once the session has ended: its recording and digest are final.
        if (this.ended) return;
        try {
          if (chunk) reader.push(chunk);
          const whole = reader.takeWhole(wanted, observe);
          if (whole && !to.write(whole)) {
            from.pause();
            to.once('drain', () => from.resume());
          }
        } catch (error) {
          const protocol = error instanceof ProtocolError ? error : new ProtocolError((error as Error).message);
          void this.end('protocol_error', protocol);
        }
      };
      from.on('data', drain);
      drain();
    };
    pipe(client, upstream.socket, this.clientReader, FROM_CLIENT, (m) => {
      if (m.type === 'X') this.terminated = true;
      this.recorder.fromClient(m);
    });
    pipe(upstream.socket, client, upstream.reader, FROM_SERVER, (m) => this.recorder.fromServer(m));
    client.on('close', () => { void this.end('client_closed'); });
    upstream.socket.on('close', () => { void this.end(this.terminated ? 'client_closed' : 'upstream_closed'); });
    upstream.socket.on('error', () => undefined);
    if (client.destroyed) void this.end('client_closed');
  }

  /** A warning to the client, between two whole messages. */
  notice(text: string): void {
    if (this.ended || this.noticed) return;
    this.noticed = true;
    this.client.write(report('N', 'WARNING', '01000', text));
  }

  /** Ends the session once: the client is told why (when it did not leave itself), then the end is committed. */
  async end(reason: ProxyEndReason, why?: Error | string): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (why !== undefined && !this.client.destroyed) {
      const code = why instanceof ProtocolError ? why.code : '57P01';
      this.client.end(fatal(code, typeof why === 'string' ? why : why.message));
    } else this.client.end();
    if (!this.upstream.socket.destroyed) this.upstream.socket.end(serialize.end());
    if (this.upstream.cancelKey) this.deps.cancelTargets.delete(this.upstream.cancelKey);
    this.recorder.abandon(`the session ended (${reason}) before the reply`);
    const recording = await this.recording.finish();
    await endProxySession({ ...this.deps.ctx, actor: { id: undefined, channel: 'system' } },
      { id: this.id, reason, statements: recording.lines, recordingSha256: recording.sha256 })
      .catch((error: unknown) => this.deps.onError(error as Error));
    this.onEnd(this);
  }
}
