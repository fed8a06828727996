/**
 * The metrics listener: GET /metrics in the Prometheus text format, on an address of its own so it
 * never shares the API's port, rate limit, or access rules, and can be firewalled to the scraper.
 * With a token, a scrape without `Authorization: Bearer <token>` is refused; the token is compared
 * in constant time and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/database.js';
import type { MetricsConfig } from './config.js';
import { databaseMetrics, type DecisionIndexState } from './database.js';
import { processRegistry } from './process.js';

export interface MetricsServer { url: string; close(): Promise<void> }

export interface MetricsSources { store: Store; clock: Clock; decision?: (() => DecisionIndexState) | undefined }

/** Digests first: timingSafeEqual needs equal lengths, and comparing digests reveals nothing about the token's length. */
const sameToken = (given: string, expected: string): boolean =>
  timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());

const authorized = (request: IncomingMessage, token: string | undefined): boolean => {
  if (token === undefined) return true;
  const header = request.headers.authorization ?? '';
  return header.startsWith('Bearer ') && sameToken(header.slice('Bearer '.length), token);
};

/** The text of one scrape: this process's counters with the service's gauges as the database shows them now. */
export const scrape = async (sources: MetricsSources): Promise<{ contentType: string; body: string }> => {
  const service = await databaseMetrics(sources.store, sources.clock.now(), sources.decision);
  const merged = Registry.merge([processRegistry, service]);
  return { contentType: merged.contentType, body: await merged.metrics() };
};

const answer = (response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) => {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${text}\n`);
};

export const startMetricsServer = (config: MetricsConfig, sources: MetricsSources): Promise<MetricsServer> => {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') { answer(response, 404, 'only GET /metrics is served here'); return; }
    if (!authorized(request, config.token)) { answer(response, 401, 'send Authorization: Bearer <the metrics token>', { 'www-authenticate': 'Bearer' }); return; }
    scrape(sources).then(
      ({ contentType, body }) => { response.writeHead(200, { 'content-type': contentType }).end(body); },
      (error: unknown) => { answer(response, 500, `metrics could not be collected: ${(error as Error).message}`); },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      const { port } = server.address() as AddressInfo;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      resolve({
        url: `http://${host}:${port}/metrics`,
        close: () => new Promise((done) => { server.close(() => done()); server.closeAllConnections(); }),
      });
    });
  });
};
