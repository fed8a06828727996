import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { loadHttpConfig } from '../src/config.js';
import { loadLogSettings } from '../src/http/log-settings.js';
import { startServer, type ServerLog } from '../src/http/server.js';
import { freshStore } from './support/backends.js';
import { startTenure, TENURE_BIN } from './support/tenure-process.js';
import { buildWorld } from './support/world.js';

/** A real server on a free port, its log lines captured; `run` gets its URL and the lines so far. */
const withLoggedServer = async (log: ServerLog, run: (url: string, lines: () => string[]) => Promise<void>, env: NodeJS.ProcessEnv = {}) => {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _encoding, done) { chunks.push(String(chunk)); done(); } });
  const store = await freshStore('embedded');
  const world = await buildWorld(store);
  const server = await startServer({ store, clock: world.clock, http: { ...loadHttpConfig(env), port: 0, host: '127.0.0.1' } }, { log: { ...log, stream } });
  chunks.length = 0; // the start-up line; the tests are about request lines
  try {
    await run(server.url, () => chunks.join('').split('\n').filter(Boolean));
  } finally {
    await server.close();
    await store.close();
  }
};

const bearer = `tnr_${'S'.repeat(43)}`;

describe('request logs', () => {
  it('in json format each request gives exactly one JSON line with its request id, status and route, and no Authorization value', async () => {
    await withLoggedServer({ format: 'json', level: 'info' }, async (url, lines) => {
      const response = await fetch(`${url}/v1/identities/carl?token=${bearer}`, { headers: { authorization: `Bearer ${bearer}` } });
      const id = response.headers.get('x-request-id');
      assert.match(id ?? '', /^req-[0-9a-f]{8}-[0-9a-z]+$/);
      assert.equal(lines().length, 1);
      const entry = JSON.parse(lines()[0]!) as Record<string, unknown>;
      assert.equal(entry.reqId, id);
      assert.equal(entry.status, response.status);
      assert.equal(entry.method, 'GET');
      assert.equal(entry.route, '/v1/identities/:identity');
      assert.equal(entry.path, '/v1/identities/carl', 'the query string is left out');
      assert.ok(typeof entry.ms === 'number');
      assert.doesNotMatch(lines()[0]!, /SSSS|authorization/i);
    });
  });

  it('an incoming X-Request-Id that is a short safe token is echoed and logged, and a hostile one is replaced', async () => {
    await withLoggedServer({ format: 'json' }, async (url, lines) => {
      const kept = await fetch(`${url}/v1/identities`, { headers: { 'x-request-id': 'proxy-42.a_b' } });
      assert.equal(kept.headers.get('x-request-id'), 'proxy-42.a_b');
      for (const hostile of ['x'.repeat(65), 'a b', 'evil"},"level":60']) {
        const replaced = await fetch(`${url}/v1/identities`, { headers: { 'x-request-id': hostile } });
        assert.match(replaced.headers.get('x-request-id') ?? '', /^req-[0-9a-f]{8}-[0-9a-z]+$/);
      }
      const ids = lines().map((line) => (JSON.parse(line) as { reqId: string }).reqId);
      assert.equal(ids[0], 'proxy-42.a_b');
      assert.equal(ids.length, 4);
      assert.ok(ids.slice(1).every((id) => id.startsWith('req-')));
    });
  });

  it('the line carries the client address: the TCP peer, or the forwarded one when the peer is a trusted balancer', async () => {
    const forwarded = { 'x-forwarded-for': '203.0.113.7' };
    await withLoggedServer({ format: 'json' }, async (url, lines) => {
      await fetch(`${url}/v1/identities`, { headers: forwarded });
      assert.equal((JSON.parse(lines()[0]!) as { ip: string }).ip, '127.0.0.1', 'nobody is trusted by default');
    });
    await withLoggedServer({ format: 'json' }, async (url, lines) => {
      await fetch(`${url}/v1/identities`, { headers: forwarded });
      assert.equal((JSON.parse(lines()[0]!) as { ip: string }).ip, '203.0.113.7');
    }, { TENURE_TRUST_PROXY: '127.0.0.1' });
  });

  it('in pretty format each request gives one short human line', async () => {
    await withLoggedServer({ format: 'pretty' }, async (url, lines) => {
      const response = await fetch(`${url}/v1/identities?token=${bearer}`, { headers: { authorization: `Bearer ${bearer}` } });
      assert.deepEqual(lines().length, 1);
      assert.match(lines()[0]!, new RegExp(`^\\d\\d:\\d\\d:\\d\\d GET /v1/identities ${response.status} \\d+ms ${response.headers.get('x-request-id')}$`));
    });
  });

  it('TENURE_LOG_LEVEL=warn leaves request lines out', async () => {
    await withLoggedServer(loadLogSettings({ TENURE_LOG_LEVEL: 'warn', TENURE_LOG_FORMAT: 'json' }), async (url, lines) => {
      await fetch(`${url}/v1/identities`);
      assert.deepEqual(lines(), []);
    });
  });

  it('the format defaults to json for machines and pretty on a terminal or in the demo, and the level to info', () => {
    assert.deepEqual(loadLogSettings({}), { format: 'json', level: 'info' });
    assert.equal(loadLogSettings({}, { tty: true }).format, 'pretty');
    assert.equal(loadLogSettings({}, { demo: true }).format, 'pretty');
    assert.equal(loadLogSettings({ TENURE_LOG_FORMAT: 'json' }, { demo: true }).format, 'json');
  });

  it('an invalid TENURE_LOG_FORMAT or TENURE_LOG_LEVEL is refused naming the variable', () => {
    assert.throws(() => loadLogSettings({ TENURE_LOG_FORMAT: 'xml' }), /TENURE_LOG_FORMAT: must be one of json, pretty \(is 'xml'\)/);
    assert.throws(() => loadLogSettings({ TENURE_LOG_LEVEL: 'loud' }), /TENURE_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/);
  });

  it('tenure serve refuses to start with an invalid TENURE_TRUST_PROXY, naming the variable and the entry', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tenure-proxy-'));
    try {
      const r = spawnSync(process.execPath, [TENURE_BIN, 'serve', '--port', '0'], {
        env: { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_SERVER: '', TENURE_TRUST_PROXY: '10.0.0.0/8,lb.internal' }, encoding: 'utf8', timeout: 120_000,
      });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /TENURE_TRUST_PROXY: 'lb.internal' is not an IP address or CIDR/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('tenure serve refuses to start with an invalid TENURE_LOG_LEVEL, naming the variable', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tenure-logs-'));
    try {
      const r = spawnSync(process.execPath, [TENURE_BIN, 'serve', '--port', '0'], {
        env: { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_SERVER: '', TENURE_LOG_LEVEL: 'loud' }, encoding: 'utf8', timeout: 120_000,
      });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /TENURE_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent \(is 'loud'\)/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('the worker\'s own lines follow the format too: every line JSON for machines, short human lines when asked', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tenure-logs-'));
    const env = { TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_SERVER: '', TENURE_LOG_FORMAT: '', TENURE_LOG_LEVEL: '' };
    try {
      const machine = await startTenure(['worker'], env, /worker running/);
      await machine.stop();
      const lines = machine.log().split('\n').filter((line) => line && !line.startsWith('[exited'));
      assert.ok(lines.some((line) => /stopping/.test(line)), machine.log());
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        assert.equal(typeof entry.time, 'number');
        assert.equal(typeof entry.level, 'number');
        assert.equal(typeof entry.msg, 'string');
      }
      const person = await startTenure(['worker'], { ...env, TENURE_LOG_FORMAT: 'pretty' }, /worker running/);
      await person.stop();
      assert.match(person.log(), /^\d\d:\d\d:\d\d info worker running every \d+ ms/m);
      assert.doesNotMatch(person.log(), /^\{/m, 'no JSON line');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
