import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { TenureError } from '../src/domain/errors.js';
import { loadSiemTargets } from '../src/siem/config.js';
import { startReceiver } from './support/webhook-receiver.js';
import { TENURE_BIN } from './support/tenure-process.js';

const run = promisify(execFile);

/** The variable a refused setting names, or undefined when it is accepted. */
const refusedField = (env: NodeJS.ProcessEnv): string | undefined => {
  try {
    loadSiemTargets(env, 'test');
    return undefined;
  } catch (error) {
    assert.ok(error instanceof TenureError, String(error));
    assert.equal(error.code, 'input.invalid');
    return error.field;
  }
};

describe('SIEM settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-siem-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, NodeJS.ProcessEnv, string | undefined][] = [
    ['nothing set means no target', {}, undefined],
    ['tcp and tls syslog addresses with a port are accepted', { TENURE_SIEM_SYSLOG: 'tls://siem.example.org:6514' }, undefined],
    ['a syslog address over udp is refused', { TENURE_SIEM_SYSLOG: 'udp://siem.example.org:514' }, 'TENURE_SIEM_SYSLOG'],
    ['a syslog address without a port is refused', { TENURE_SIEM_SYSLOG: 'tcp://siem.example.org' }, 'TENURE_SIEM_SYSLOG'],
    ['a syslog address that is not a URL is refused', { TENURE_SIEM_SYSLOG: 'siem.example.org:514' }, 'TENURE_SIEM_SYSLOG'],
    ['a CA file that cannot be read is refused', { TENURE_SIEM_SYSLOG: 'tls://siem:6514', TENURE_SIEM_SYSLOG_CA_FILE: '/nonexistent/ca.pem' }, 'TENURE_SIEM_SYSLOG_CA_FILE'],
    ['a CA file with plain tcp is refused', { TENURE_SIEM_SYSLOG: 'tcp://siem:514', TENURE_SIEM_SYSLOG_CA_FILE: '/etc/hostname' }, 'TENURE_SIEM_SYSLOG_CA_FILE'],
    ['an HTTP receiver over ftp is refused', { TENURE_SIEM_HTTP: 'ftp://siem.example.org/' }, 'TENURE_SIEM_HTTP'],
    ['a token over plain http to another machine is refused', { TENURE_SIEM_HTTP: 'http://siem.example.org/in', TENURE_SIEM_HTTP_TOKEN: 't' }, 'TENURE_SIEM_HTTP'],
    ['a token over plain http to loopback is accepted', { TENURE_SIEM_HTTP: 'http://127.0.0.1:9/in', TENURE_SIEM_HTTP_TOKEN: 't' }, undefined],
    ['a token without a receiver is refused', { TENURE_SIEM_HTTP_TOKEN: 't' }, 'TENURE_SIEM_HTTP_TOKEN'],
    ['a token in both the variable and a file is refused', { TENURE_SIEM_HTTP: 'https://siem/in', TENURE_SIEM_HTTP_TOKEN: 't', TENURE_SIEM_HTTP_TOKEN_FILE: '/etc/hostname' }, 'TENURE_SIEM_HTTP_TOKEN_FILE'],
    ['an unknown start is refused', { TENURE_SIEM_SYSLOG: 'tcp://siem:514', TENURE_SIEM_START: 'yesterday' }, 'TENURE_SIEM_START'],
    ['an SD-ID that is not name@number is refused', { TENURE_SIEM_SYSLOG: 'tcp://siem:514', TENURE_SIEM_SD_ID: 'tenure' }, 'TENURE_SIEM_SD_ID'],
  ];
  for (const [name, env, field] of cases) it(name, () => { assert.equal(refusedField(env), field); });

  it('never shows the bearer token in the address it logs', () => {
    writeFileSync(join(dir, 'token'), 'very-secret\n');
    const [target] = loadSiemTargets({ TENURE_SIEM_HTTP: 'https://siem.example.org/in?x=1', TENURE_SIEM_HTTP_TOKEN_FILE: join(dir, 'token') }, 'test');
    assert.equal(target!.where, 'https://siem.example.org/in');
  });

  const env = (extra: NodeJS.ProcessEnv) => ({ ...process.env, TENURE_DATA_DIR: join(dir, 'data'), DATABASE_URL: '', TENURE_SERVER: '', TENURE_ACTOR: '', ...extra });

  it('tenure worker with a malformed SIEM setting exits before its first pass, naming the variable', async () => {
    const failed = await run(process.execPath, [TENURE_BIN, 'worker'], { env: env({ TENURE_SIEM_SYSLOG: 'udp://siem:514' }), timeout: 120_000 })
      .then(() => assert.fail('the worker started'), (error: { code: number; stderr: string }) => error);
    assert.equal(failed.code, 2, failed.stderr);
    assert.match(failed.stderr, /TENURE_SIEM_SYSLOG: the scheme must be tcp or tls, not udp/);
  });

  it('tenure worker --once streams the audit log to the configured HTTP receiver', async () => {
    const receiver = await startReceiver();
    try {
      await run(process.execPath, [TENURE_BIN, 'demo'], { env: env({}), timeout: 120_000 });
      const pass = await run(process.execPath, [TENURE_BIN, '--json', 'worker', '--once'], { env: env({ TENURE_SIEM_HTTP: receiver.url }), timeout: 120_000 });
      const sent = (JSON.parse(pass.stdout) as { siem: { sent: number } }).siem.sent;
      assert.ok(sent > 0, pass.stdout);
      const lines = receiver.hits.flatMap((hit) => hit.body.trim().split('\n')).map((line) => JSON.parse(line) as { metadata: { sequence: number; product: { version: string } } });
      assert.deepEqual(lines.map((line) => line.metadata.sequence), Array.from({ length: sent }, (_, i) => i + 1));
      const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
      assert.equal(lines[0]!.metadata.product.version, version);
    } finally {
      await receiver.close();
    }
  });
});
