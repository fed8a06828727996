/**
 * The proxy's own connection to the target: it signs in as the person's login role (the target
 * trusts the proxy for managed roles, see docs/sessions.md; the person never holds that
 * credential), takes the grant's role with SET ROLE (a shared account is signed in as itself), and
 * hands back the server's greeting (ParameterStatus, BackendKeyData) for the client.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { MessageReader, ProtocolError, reportFields, type Message } from './wire.js';

/**
 * TLS to the target as libpq's URL parameters say (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`):
 * the client certificate is the credential only the proxy holds, which the target's pg_hba.conf
 * trusts for managed roles (docs/sessions.md).
 */
export interface UpstreamTls { mode: 'require' | 'verify-ca' | 'verify-full'; rootCert?: string | undefined; cert?: string | undefined; key?: string | undefined }

export interface UpstreamTarget { host: string; port: number; database: string; account: string; role: string; tls?: UpstreamTls | undefined }

export interface Upstream {
  socket: Socket;
  /** Messages for the client before its first ReadyForQuery. */
  greeting: Buffer[];
  /** The target's BackendKeyData (process id and secret) as hex: what a client's cancel request names. */
  cancelKey: string | undefined;
  reader: MessageReader;
}

/** Client settings worth carrying to the target; anything else (options, replication) is not passed. */
const PASSED = ['application_name', 'client_encoding', 'DateStyle', 'TimeZone', 'extra_float_digits'];

/** A failure that the client may be told about in words (no secret in it). */
export class UpstreamRefused extends Error {
  constructor(message: string, readonly code: string) { super(message); }
}

const errorOf = (m: Message): UpstreamRefused => {
  const fields = reportFields(m.body);
  return new UpstreamRefused(fields.get('M') ?? 'the target refused', fields.get('C') ?? '08006');
};

/** Reads messages until `until` says stop; rejects on an ErrorResponse, a close or the timeout. */
const readUntil = (socket: Socket, reader: MessageReader, timeoutMs: number, until: (m: Message) => boolean): Promise<Message[]> =>
  new Promise((resolve, reject) => {
    const got: Message[] = [];
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData); socket.off('close', onClose); socket.off('error', onClose);
      if (error) reject(error); else resolve(got);
    };
    const onClose = () => done(new UpstreamRefused('the target closed the connection', '08006'));
    const onData = (chunk: Buffer) => {
      try {
        reader.push(chunk);
        for (let m = reader.next(); m; m = reader.next()) {
          if (m.type === 'E') { done(errorOf(m)); return; }
          got.push(m);
          if (until(m)) { done(); return; }
        }
      } catch (error) { done(error as Error); }
    };
    const timer = setTimeout(() => done(new UpstreamRefused('the target did not answer in time', '08006')), timeoutMs);
    socket.on('data', onData); socket.once('close', onClose); socket.once('error', onClose);
  });

const authentication = (m: Message): number => (m.type === 'R' ? m.body.readInt32BE(0) : -1);

const SSL_REQUEST_PACKET = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]);

/** Asks the target for TLS and wraps the socket; a target that declines is refused rather than used in the clear. */
const startTls = async (socket: Socket, target: UpstreamTarget, tls: UpstreamTls, timeoutMs: number): Promise<Socket> => {
  socket.write(SSL_REQUEST_PACKET);
  const answer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new UpstreamRefused('the target did not answer the TLS request in time', '08006')), timeoutMs);
    socket.once('data', (chunk) => { clearTimeout(timer); resolve(chunk.subarray(0, 1).toString('latin1')); });
  });
  if (answer !== 'S') throw new UpstreamRefused(`the target does not accept TLS, which sslmode=${tls.mode} requires`, '08001');
  const options: ConnectionOptions = {
    socket, servername: target.host, rejectUnauthorized: tls.mode !== 'require',
    ...(tls.rootCert ? { ca: readFileSync(tls.rootCert) } : {}),
    ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}), ...(tls.key ? { key: readFileSync(tls.key) } : {}),
    // verify-ca trusts any certificate of the CA, whatever name it carries (libpq's meaning).
    ...(tls.mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  };
  return new Promise((resolve, reject) => {
    const secure = tlsConnect(options, () => resolve(secure));
    secure.once('error', (error) => reject(new UpstreamRefused(`TLS with the target failed: ${error.message}`, '08001')));
  });
};

/** Sends a client's cancel request to the target; no answer is due, so none is awaited beyond the write. */
export const relayCancel = (target: { host: string; port: number }, packet: Buffer): void => {
  const socket = connect({ host: target.host, port: target.port }, () => socket.end(packet));
  socket.on('error', () => undefined);
  socket.setTimeout(5000, () => socket.destroy());
};

const setRole = (socket: Socket, reader: MessageReader, role: string, timeoutMs: number): Promise<Message[]> => {
  socket.write(serialize.query(`SET ROLE ${pg.escapeIdentifier(role)}`));
  return readUntil(socket, reader, timeoutMs, (m) => m.type === 'Z');
};

export const openUpstream = async (
  target: UpstreamTarget, clientParams: Map<string, string>, options: { timeoutMs: number; maxMessageBytes: number },
): Promise<Upstream> => {
  const plain = connect({ host: target.host, port: target.port, noDelay: true });
  let socket: Socket = plain;
  const reader = new MessageReader(options.maxMessageBytes);
  try {
    await new Promise<void>((resolve, reject) => {
      plain.once('connect', resolve);
      plain.once('error', () => reject(new UpstreamRefused(`the target at ${target.host}:${target.port} cannot be reached`, '08001')));
    });
    if (target.tls) socket = await startTls(plain, target, target.tls, options.timeoutMs);
    const startup: Record<string, string> = { user: target.account, database: target.database };
    for (const key of PASSED) { const value = clientParams.get(key); if (value !== undefined) startup[key] = value; }
    socket.write(serialize.startup(startup));
    const greeting = await readUntil(socket, reader, options.timeoutMs, (m) => m.type === 'Z' || (m.type === 'R' && authentication(m) !== 0));
    const asked = greeting.find((m) => m.type === 'R' && authentication(m) !== 0);
    if (asked) throw new UpstreamRefused('the target asks the proxy for a password: it must trust the proxy for managed roles (docs/sessions.md)', '28000');
    // Signed in as the role itself (a shared account), there is no other role to take.
    const set = target.role === target.account ? [] : await setRole(socket, reader, target.role, options.timeoutMs);
    const passOn = [...greeting, ...set].filter((m) => m.type === 'S' || m.type === 'K');
    const key = passOn.find((m) => m.type === 'K');
    return { socket, reader, greeting: passOn.map((m) => m.raw), cancelKey: key?.body.subarray(0, 8).toString('hex') };
  } catch (error) {
    socket.destroy();
    plain.destroy();
    throw error instanceof UpstreamRefused || error instanceof ProtocolError ? error : new UpstreamRefused((error as Error).message, '08006');
  }
};
