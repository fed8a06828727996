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
const { url, token, bodies, rate, seconds } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
const target = new URL(url);
const latencies = [];
let sent = 0, done = 0, failed = 0;
const total = Math.round(rate * seconds);
const start = performance.now();
const send = (body) => {
  const began = performance.now();
  const request = http.request({ host: target.hostname, port: target.port, path: '/v1/check', method: 'POST', agent,
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
    const generate = async (seconds: number) => {
      const worker = new Worker(GENERATOR, { eval: true, workerData: { url: `http://127.0.0.1:${port}`, token, bodies, rate: load.rate, seconds } });
      const outcome = await new Promise<GeneratorResult>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      await worker.terminate();
      return outcome;
    };
    // A warm-up second at the same rate, not measured: JIT compilation and the first connections
    // belong to start-up, not to the steady state the target is about.
    await generate(1);
    const result = await generate(load.seconds);
    if (result.failed > 0) throw new Error(`${result.failed} of ${result.latencies.length} checks over HTTP failed`);
    const sorted = [...result.latencies].sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
    const n = sorted.length;
    return {
      name: `POST /v1/check over HTTP at ${load.rate.toLocaleString('en-US')}/s (p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms)`,
      backend, n, medianMs: result.elapsed, perSecond: n / (result.elapsed / 1000), ...(load.rate >= 2000 ? { target: 'p50/p99 at 2,000/s' } : {}),
    };
  } finally {
    await app.close();
  }
};
