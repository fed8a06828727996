import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** `path`: the path and query the POST went to. */
export interface Hit { id: string; signature: string; body: string; headers: IncomingHttpHeaders; path: string }

/** A real HTTP receiver on a free loopback port; `respond` picks each answer's status and can be swapped mid-test. */
export interface Receiver {
  url: string;
  hits: Hit[];
  respond: (hit: Hit) => number | Promise<number>;
  close(): Promise<void>;
}

export const startReceiver = async (respond: Receiver['respond'] = () => 200): Promise<Receiver> => {
  const hits: Hit[] = [];
  const receiver: Receiver = { url: '', hits, respond, close: async () => undefined };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const hit = { id: String(req.headers['tenure-webhook-id']), signature: String(req.headers['tenure-signature']),
        body: Buffer.concat(chunks).toString('utf8'), headers: req.headers, path: req.url ?? '' };
      hits.push(hit);
      void Promise.resolve(receiver.respond(hit)).then((status) => { res.statusCode = status; res.end(); });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tenure`;
  receiver.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return receiver;
};
