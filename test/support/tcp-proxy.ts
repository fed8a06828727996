/**
 * A TCP proxy between Tenure and its PostgreSQL server that a test can break the way networks break:
 * refuse connections (the server is down or restarting), or black-hole them (a failover that
 * silently loses the old flows: nothing arrives and nothing is closed). In node `net`, no root needed.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Stops listening and cuts every open connection: connecting is refused until `restore`. */
  refuse(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /** Every open connection, and every new one, stops carrying bytes, without closing. */
  blackHole(): void;
  /** New connections carry bytes again; those black-holed stay silent, as flows to a vanished host do. */
  forward(): void;
  /**
   * The next COMMIT a client sends reaches the server, and then that client's connection is cut
   * before the answer comes back: a commit that happened, acknowledged to nobody.
   */
  cutAfterNextCommit(): void;
  /** Connections accepted so far (to see that a client reconnected). */
  accepted(): number;
  close(): Promise<void>;
}

interface Flow { client: Socket; upstream: Socket; silent: boolean }

export const startTcpProxy = async (target: { host: string; port: number }): Promise<TcpProxy> => {
  const flows = new Set<Flow>();
  let holing = false;
  let cutAfterCommit = false;
  let accepted = 0;
  const onConnection = (client: Socket) => {
    accepted += 1;
    const upstream = connect(target.port, target.host);
    const flow: Flow = { client, upstream, silent: holing };
    flows.add(flow);
    const end = () => { flows.delete(flow); client.destroy(); upstream.destroy(); };
    client.on('data', (bytes: Buffer) => {
      if (flow.silent) return;
      upstream.write(bytes);
      // A simple-protocol Query message ('Q', length, text): node-postgres commits with one.
      if (cutAfterCommit && bytes[0] === 0x51 && /^commit\b/i.test(bytes.subarray(5).toString('latin1'))) {
        cutAfterCommit = false;
        // Its answer is dropped; both ends go a moment later, once the server has surely read the COMMIT.
        flow.silent = true;
        setTimeout(() => { client.destroy(); upstream.destroy(); }, 500);
      }
    });
    upstream.on('data', (bytes: Buffer) => { if (!flow.silent) client.write(bytes); });
    // A silent flow is not closed either: that is what makes a black hole hang its peers.
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', () => { if (!flow.silent || socket === client) end(); });
    }
  };
  let server: Server = createServer(onConnection);
  const listen = (port: number) => new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
  const port = await listen(0);
  const stopListening = () => new Promise<void>((resolve) => { server.close(() => resolve()); });
  const cutAll = () => {
    for (const flow of flows) { flow.client.destroy(); flow.upstream.destroy(); }
    flows.clear();
  };
  return {
    port,
    via: (url) => { const u = new URL(url); u.hostname = '127.0.0.1'; u.port = String(port); return u.toString(); },
    refuse: async () => { const closed = stopListening(); cutAll(); await closed; },
    restore: async () => { server = createServer(onConnection); await listen(port); },
    blackHole: () => { holing = true; for (const flow of flows) flow.silent = true; },
    forward: () => { holing = false; },
    cutAfterNextCommit: () => { cutAfterCommit = true; },
    accepted: () => accepted,
    close: async () => { const closed = server.listening ? stopListening() : Promise.resolve(); cutAll(); await closed; },
  };
};
