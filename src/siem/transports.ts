import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { octetCounted } from './syslog.js';

export interface SyslogEndpoint { protocol: 'tcp' | 'tls'; host: string; port: number; ca?: Buffer | undefined }
export interface HttpEndpoint { url: string; token?: string | undefined }

/**
 * Sends the messages on a new connection, octet-counted (RFC 6587; RFC 5425 frames TLS the same way),
 * and resolves only when the receiver has read everything: after our half-close it reads to the end
 * of the stream and closes its side. Plain syslog has no application acknowledgement, so a clean close
 * is the strongest "accepted" TCP gives; a reset, a TLS failure or the timeout rejects, and the batch
 * is sent again later. One connection per batch keeps this simple and costs one handshake per batch.
 */
export const sendSyslog = (endpoint: SyslogEndpoint, messages: string[], timeoutMs: number): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error); else resolve();
    };
    const onConnect = () => {
      socket.write(Buffer.concat(messages.map(octetCounted)));
      socket.end();
    };
    // SNI may not carry an IP address (RFC 6066); the certificate is checked against the IP all the same.
    const socket: Socket = endpoint.protocol === 'tls'
      ? tlsConnect({ host: endpoint.host, port: endpoint.port, ...(isIP(endpoint.host) ? {} : { servername: endpoint.host }), ca: endpoint.ca, rejectUnauthorized: true }, onConnect)
      : tcpConnect({ host: endpoint.host, port: endpoint.port }, onConnect);
    // A deadline for the whole batch, not an idle timeout: a receiver that trickles must not hold the lease.
    const timer = setTimeout(() => finish(new Error(`syslog receiver ${endpoint.host}:${endpoint.port} did not take the batch within ${timeoutMs} ms`)), timeoutMs);
    socket.on('error', (error) => finish(error));
    // Data the receiver sends back is not expected; it is read only so that 'end' can arrive.
    socket.on('data', () => undefined);
    socket.on('close', (hadError) => finish(hadError ? new Error('syslog connection closed with an error') : undefined));
  });

/**
 * One POST of JSON lines; accepted means a 2xx answer. Redirects are not followed: the receiver's
 * address is configured, and a redirect would carry the bearer token elsewhere.
 */
export const sendHttp = async (endpoint: HttpEndpoint, lines: string[], timeoutMs: number): Promise<void> => {
  const response = await fetch(endpoint.url, {
    method: 'POST',
    body: lines.join(''),
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
    headers: { 'content-type': 'application/x-ndjson', ...(endpoint.token ? { authorization: `Bearer ${endpoint.token}` } : {}) },
  });
  await response.body?.cancel();
  if (response.status < 200 || response.status > 299) throw new Error(`SIEM HTTP receiver answered ${response.status}`);
};
