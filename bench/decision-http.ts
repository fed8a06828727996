/**
 * POST /v1/check over loopback HTTP at a fixed rate (open loop: requests are sent on schedule, not
 * when the previous one returns), from a worker thread so the load generator has its own event loop
 * and the server's is left to the service. Latency is measured per request, send to last byte.
 */
import { Worker } from 'node:worker_threads';
import { loadHttpConfig } from '../src/config.js';
import { systemClock } from '../src/domain/clock.js';
import type { CheckRequest, DecisionService } from '../src/decision/service.js';
import { buildApp } from '../src/http/app.js';
import { checkRoutes } from '../src/http/routes/check.js';
import { ROUTES } from '../src/http/routes/index.js';
import { createToken } from '../src/operations/create-token.js';
import type { Store } from '../src/store/database.js';
import type { World } from '../test/support/world.js';
import type { BenchResult } from './report.js';

/** Plain JavaScript, run with `eval`: keep-alive agent, a send schedule of `rate` per second, per-request timings. */
const GENERATOR = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, path, token, bodies, rate, seconds } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
const target = new URL(url);
const latencies = [];
let sent = 0, done = 0, failed = 0;
const total = Math.round(rate * seconds);
const start = performance.now();
const send = (body) => {
  const began = performance.now();
  const request = http.request({ host: target.hostname, port: target.port, path, method: 'POST', agent,
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token, 'content-length': Buffer.byteLength(body) } }, (response) => {
    response.on('data', () => {});
    response.on('end', () => { latencies.push(performance.now() - began); if (response.statusCode !== 200) failed++; finish(); });
  });
  request.on('error', () => { failed++; finish(); });
  request.end(body);
};
const finish = () => { done++; if (done === total) { agent.destroy(); parentPort.postMessage({ latencies, failed, elapsed: performance.now() - start }); } };
const tick = () => {
  const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
  while (sent < due) { send(bodies[sent % bodies.length]); sent++; }
  if (sent < total) setTimeout(tick, 1);
};
tick();
`;

interface GeneratorResult { latencies: number[]; failed: number; elapsed: number }

/** Sends `rate` requests per second to `url + path` for `seconds`, after an unmeasured warm-up second. */
const generate = async (data: { url: string; path: string; token: string; bodies: string[]; rate: number }, seconds: number) => {
  const once = async (duration: number) => {
    const worker = new Worker(GENERATOR, { eval: true, workerData: { ...data, seconds: duration } });
    const outcome = await new Promise<GeneratorResult>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    return outcome;
  };
  // JIT compilation and the first connections belong to start-up, not to the steady state measured.
  await once(1);
  return once(seconds);
};

const percentile = (latencies: number[]) => {
  const sorted = [...latencies].sort((a, b) => a - b);
  return (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
};

/**
 * The floor of this machine and generator: an empty Fastify route under the same load. On two
 * shared cores the generator's own scheduling shows in the tail; this row says how much.
 */
export const benchBareHttp = async (backend: string, load: { rate: number; seconds: number }): Promise<BenchResult> => {
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  app.post('/bare', async () => ({ decision: 'allow' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const port = (app.server.address() as { port: number }).port;
    const result = await generate({ url: `http://127.0.0.1:${port}`, path: '/bare', token: 'none', bodies: ['{}'], rate: load.rate }, load.seconds);
    const at = percentile(result.latencies);
    return { name: `baseline: empty Fastify route, same generator, ${load.rate.toLocaleString('en-US')}/s (p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms)`,
      backend, n: result.latencies.length, medianMs: result.elapsed, perSecond: result.latencies.length / (result.elapsed / 1000) };
  } finally {
    await app.close();
  }
};

export const benchCheckOverHttp = async (
  store: Store, w: World, service: DecisionService, backend: string, questions: CheckRequest[], load: { rate: number; seconds: number },
): Promise<BenchResult> => {
  const deps = { store, clock: systemClock, http: { ...loadHttpConfig({}), port: 0, writesPerMinute: 1_000_000 }, decision: service };
  const app = await buildApp(deps);
  if (!ROUTES.includes(checkRoutes)) await checkRoutes(app, deps);
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const token = (await createToken(await w.as('ada'), { name: 'bench-check', scopes: ['check'] })).secret;
    const bodies = questions.slice(0, 5000).map((q) => JSON.stringify(q));
    const result = await generate({ url: `http://127.0.0.1:${port}`, path: '/v1/check', token, bodies, rate: load.rate }, load.seconds);
    if (result.failed > 0) throw new Error(`${result.failed} of ${result.latencies.length} checks over HTTP failed`);
    const at = percentile(result.latencies);
    const n = result.latencies.length;
    return {
      name: `POST /v1/check over HTTP at ${load.rate.toLocaleString('en-US')}/s (p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms)`,
      backend, n, medianMs: result.elapsed, perSecond: n / (result.elapsed / 1000), ...(load.rate >= 2000 ? { target: 'p50/p99 at 2,000/s' } : {}),
    };
  } finally {
    await app.close();
  }
};
