/**
 * Local forwarding through the SSH proxy (`ssh -L`, `-W`, `-J`): a `direct-tcpip` channel the client
 * opens is opened on the host as the same request, when its destination is one the grant's
 * entitlement lists (`forwarding` in the policy), and refused otherwise. The recording says what was
 * opened, when it closed and how many bytes went each way, never the bytes themselves: they are not
 * terminal data, are often binary (a database's wire protocol, TLS) and may carry secrets (passwords,
 * tokens, the data itself), and an asciicast holds text for a player to show.
 */
import type { Client, ClientChannel, ServerChannel, TcpipRequestInfo } from 'ssh2';
import type { AsciicastCode } from '../../domain/asciicast.js';
import { forwardingDestination } from '../../domain/ssh-forwarding.js';

export interface ForwardingHost {
  readonly upstream: Client;
  /** The destinations the session's grant may forward to, as the policy writes them. */
  readonly forwarding: readonly string[];
  record(code: AsciicastCode, data: string): void;
  /** Forwarded channels open now, closed at the session's end. */
  readonly forwards: Set<Forward>;
  /** The session is ending: a channel the host opens now is closed at once. */
  readonly ending: boolean;
}

/** One forwarded channel, both its legs. */
export interface Forward { close(): void }

/** `in`: what the client sent to the destination; `out`: what came back. */
const relay = (host: ForwardingHost, destination: string, client: ServerChannel, upstream: ClientChannel): void => {
  let bytesIn = 0;
  let bytesOut = 0;
  let closed = false;
  const forward: Forward = {
    // The marker is written at the first close of either leg, before the session's own end marker.
    close: () => {
      if (closed) return;
      closed = true;
      host.forwards.delete(forward);
      host.record('m', `forwarding: ${destination} closed (${bytesIn} bytes in, ${bytesOut} bytes out)`);
      client.close();
      upstream.close();
    },
  };
  client.on('data', (chunk: Buffer) => { bytesIn += chunk.length; });
  upstream.on('data', (chunk: Buffer) => { bytesOut += chunk.length; });
  // pipe() pauses the faster side while the other's SSH window is full, so nothing piles up in the proxy.
  client.pipe(upstream);
  upstream.pipe(client);
  for (const leg of [client, upstream]) {
    leg.on('close', forward.close);
    leg.on('error', forward.close);
  }
  host.forwards.add(forward);
  host.record('m', `forwarding: ${destination} opened`);
};

/** Answers one `direct-tcpip` request of the client. */
export const serveForwarding = (host: ForwardingHost, accept: () => ServerChannel, reject: () => void, info: TcpipRequestInfo): void => {
  const destination = forwardingDestination(info.destIP, info.destPort);
  if (!host.forwarding.includes(destination)) {
    host.record('m', `refused: forwarding to ${destination}`);
    reject();
    return;
  }
  // Opened on the host first: the client is told it is open only once it is, or refused as the host refused it.
  // The host is asked for the destination exactly as matched (names in lower case), not as the client spelt it.
  host.upstream.forwardOut(info.srcIP, info.srcPort, info.destIP.toLowerCase(), info.destPort, (error, upstream) => {
    if (error) {
      host.record('m', `forwarding: ${destination} refused by the host (${error.message.replace(/^\(SSH\) Channel open failure: /, '')})`);
      reject();
      return;
    }
    if (host.ending) { upstream.close(); reject(); return; }
    relay(host, destination, accept(), upstream);
  });
};
