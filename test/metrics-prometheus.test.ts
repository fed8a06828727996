import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTenure, type TenureProcess } from './support/tenure-process.js';

const TOKEN = 'prometheus-scrapes-with-this-32-char-token';

const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  }).on('error', reject);
});

/** Asks Prometheus's HTTP API for an instant query until `accept` takes the answer or `ms` run out. */
const queryUntil = async (base: string, query: string, accept: (values: number[]) => boolean, ms: number): Promise<number[]> => {
  const deadline = Date.now() + ms;
  let last: number[] = [];
  while (Date.now() < deadline) {
    const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`).catch(() => undefined);
    if (res?.ok) {
      const body = await res.json() as { data: { result: { value: [number, string] }[] } };
      last = body.data.result.map((r) => Number(r.value[1]));
      if (accept(last)) return last;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${query} never gave what was expected within ${ms} ms; last answer: ${JSON.stringify(last)}`);
};

describe('a real Prometheus scraping a running tenure serve', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-prometheus-'));
  let tenure: TenureProcess;
  let apiUrl: string;
  let prometheus: ChildProcess;
  let prometheusUrl: string;
  let prometheusLog = '';

  before(async () => {
    tenure = await startTenure(['serve', '--port', '0'], {
      TENURE_DATA_DIR: join(dir, 'data'), TENURE_METRICS_ADDRESS: '127.0.0.1:0', TENURE_METRICS_TOKEN: TOKEN,
    }, /tenure serving (http:\/\/\S+) /);
    apiUrl = tenure.url;
    const metricsUrl = /metrics at (http:\/\/\S+)/.exec(tenure.log())![1]!;
    writeFileSync(join(dir, 'token'), TOKEN, { mode: 0o600 });
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: tenure',
      `    authorization: { type: Bearer, credentials_file: ${join(dir, 'token')} }`,
      `    static_configs: [{ targets: ['${new URL(metricsUrl).host}'] }]`,
      '',
    ].join('\n'));
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    prometheus.stderr!.on('data', (chunk: Buffer) => { prometheusLog = (prometheusLog + String(chunk)).slice(-5000); });
  });

  after(async () => {
    if (prometheus?.exitCode === null) {
      const exited = new Promise((resolve) => prometheus.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await tenure?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes the metrics listener with the bearer token and reads back the requests the test made, by route', async () => {
    await queryUntil(prometheusUrl, 'up{job="tenure"}', (v) => v[0] === 1, 30_000)
      .catch((e: Error) => { throw new Error(`${e.message}\nprometheus: ${prometheusLog}\ntenure: ${tenure.log()}`); });
    for (let i = 0; i < 7; i += 1) assert.equal((await fetch(`${apiUrl}/healthz`)).status, 200);
    const [count] = await queryUntil(prometheusUrl, 'tenure_http_requests_total{job="tenure",route="/healthz",status="200"}', (v) => v[0] === 7, 20_000);
    assert.equal(count, 7);
    const [up] = await queryUntil(prometheusUrl, 'tenure_metrics_database_up{job="tenure"}', (v) => v.length === 1, 5_000);
    assert.equal(up, 1);
  });
});
