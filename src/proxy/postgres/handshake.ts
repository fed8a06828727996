/**
 * The client's half of the handshake: its startup packet (an SSL request is taken when the proxy
 * has a certificate, and then TLS is required; else declined, as a GSS one always is), then its password in
 * answer to a cleartext request. All of it within one deadline: a client that stalls is dropped.
 * A cancel request instead of a startup is handed to the caller, which relays it.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import {
  authenticationCleartext, BodyReader, CANCEL_REQUEST, GSS_REQUEST, MessageReader, PROTOCOL_3, ProtocolError, SSL_REQUEST,
  startupParameters,
} from './wire.js';

export interface Login { user: string; database: string; password: string; params: Map<string, string> }

/** A cancel request (no reply is due): its packet goes to the target of the session whose key it names. */
export class CancelRequest extends Error {
  constructor(readonly key: string, readonly packet: Buffer) { super('cancel request'); }
}

const NO = Buffer.from('N');
const YES = Buffer.from('S');

/** The client's connection; `socket` becomes the TLS socket once the client's SSL request is taken. */
export interface ClientConnection { socket: Socket; tls: SecureContext | undefined }

export const readLogin = (conn: ClientConnection, reader: MessageReader, timeoutMs: number): Promise<Login> => new Promise((resolve, reject) => {
  let params: Map<string, string> | undefined;
  let socket = conn.socket;
  const done = (error: Error | undefined, login?: Login) => {
    clearTimeout(timer);
    socket.off('data', onData); socket.off('close', onClose);
    if (error) reject(error); else resolve(login!);
  };
  /** From here on the client speaks TLS: the rest of the handshake is read from the TLS socket. */
  const upgrade = (secureContext: SecureContext) => {
    socket.off('data', onData); socket.off('close', onClose);
    socket.write(YES);
    const secure = new TLSSocket(socket, { isServer: true, secureContext });
    secure.on('error', (error) => done(new ProtocolError(`TLS: ${error.message}`)));
    secure.on('data', onData);
    secure.once('close', onClose);
    socket = secure;
    conn.socket = secure;
  };
  const onClose = () => done(new ProtocolError('the client left during the handshake'));
  const step = (): boolean => {
    if (!params) {
      const packet = reader.startup();
      if (!packet) return false;
      if (packet.code === SSL_REQUEST && conn.tls && !(socket instanceof TLSSocket)) { upgrade(conn.tls); return false; }
      if (packet.code === SSL_REQUEST || packet.code === GSS_REQUEST) { socket.write(NO); return true; }
      if (packet.code === CANCEL_REQUEST) {
        if (packet.body.length !== 8) throw new ProtocolError('invalid cancel request');
        throw new CancelRequest(packet.body.toString('hex'), Buffer.concat([Buffer.from([0, 0, 0, 16, 4, 210, 22, 46]), packet.body]));
      }
      if (packet.code !== PROTOCOL_3) throw new ProtocolError(`unsupported frontend protocol ${packet.code >> 16}.${packet.code & 0xffff}`, '0A000');
      if (conn.tls && !(socket instanceof TLSSocket)) throw new ProtocolError('this proxy accepts TLS connections only (sslmode=require or stricter)', '28000');
      params = startupParameters(packet.body);
      if (!params.get('user') || !params.get('database')) {
        throw new ProtocolError('the startup message must name a user (your handle) and a database (the entitlement)', '28000');
      }
      if (params.has('replication')) throw new ProtocolError('replication connections are not proxied', '28000');
      socket.write(authenticationCleartext());
      return true;
    }
    const message = reader.next();
    if (!message) return false;
    if (message.type !== 'p') throw new ProtocolError(`expected a password message, got '${message.type}'`);
    const password = new BodyReader(message.body).cstring();
    done(undefined, { user: params.get('user')!, database: params.get('database')!, password, params });
    return false;
  };
  const onData = (chunk: Buffer) => {
    reader.push(chunk);
    try { while (step()) { /* each step consumed a packet */ } } catch (error) { done(error as Error); }
  };
  const timer = setTimeout(() => done(new ProtocolError('the handshake did not finish in time')), timeoutMs);
  socket.on('data', onData);
  socket.once('close', onClose);
});
