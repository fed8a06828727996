import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { unsafeInProduction } from '../src/production-guard.js';
import { startTenure, TENURE_BIN } from './support/tenure-process.js';

const SAFE = { NODE_ENV: 'production', TENURE_PUBLIC_URL: 'https://tenure.example.com' };
const refused = (env: NodeJS.ProcessEnv) => unsafeInProduction(env).map((line) => line.split(':')[0]);

describe('NODE_ENV=production refuses settings meant for tests', () => {
  const cases: [string, NodeJS.ProcessEnv, string[]][] = [
    ['a production setup with an https public URL passes', SAFE, []],
    ['no public URL (the http://localhost default) is refused', { NODE_ENV: 'production' }, ['TENURE_PUBLIC_URL']],
    ['an http public URL is refused', { ...SAFE, TENURE_PUBLIC_URL: 'http://tenure.example.com' }, ['TENURE_PUBLIC_URL']],
    ['an http identity provider is refused', { ...SAFE, TENURE_OIDC_ALLOW_HTTP: '1' }, ['TENURE_OIDC_ALLOW_HTTP']],
    ['failpoints are refused', { ...SAFE, TENURE_FAILPOINTS: 'provisioning.after_connector_call:1' }, ['TENURE_FAILPOINTS']],
    ['audit checkpoints turned off are refused', { ...SAFE, TENURE_AUDIT_CHECKPOINTS: 'off' }, ['TENURE_AUDIT_CHECKPOINTS']],
    ['the PostgreSQL proxy off loopback without a certificate for clients is refused', { ...SAFE, TENURE_PG_PROXY_LISTEN: '0.0.0.0:6432' },
      ['TENURE_PG_PROXY_LISTEN']],
    ['the PostgreSQL proxy on loopback, or with a certificate, passes',
      { ...SAFE, TENURE_PG_PROXY_LISTEN: '127.0.0.1:6432', TENURE_PG_PROXY_TLS_CERT: '', TENURE_PG_PROXY_TLS_KEY: '' }, []],
    ['the PostgreSQL proxy with a certificate for clients passes anywhere',
      { ...SAFE, TENURE_PG_PROXY_LISTEN: '10.0.0.5:6432', TENURE_PG_PROXY_TLS_CERT: '/etc/tenure/proxy.crt', TENURE_PG_PROXY_TLS_KEY: '/etc/tenure/proxy.key' }, []],
    ['every broken rule is named at once', { NODE_ENV: 'production', TENURE_OIDC_ALLOW_HTTP: '1', TENURE_AUDIT_CHECKPOINTS: 'off' },
      ['TENURE_PUBLIC_URL', 'TENURE_OIDC_ALLOW_HTTP', 'TENURE_AUDIT_CHECKPOINTS']],
    ['outside production the same settings are left to the operator', { TENURE_OIDC_ALLOW_HTTP: '1', TENURE_AUDIT_CHECKPOINTS: 'off' }, []],
  ];
  for (const [name, env, variables] of cases) it(name, () => { assert.deepEqual(refused(env), variables); });

  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-production-'));
  const env = { TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_SERVER: '', TENURE_ACTOR: '', TENURE_FAILPOINTS: '', TENURE_OIDC_ALLOW_HTTP: '' };
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('tenure serve in production with an http public URL exits before listening, naming the variable', () => {
    const r = spawnSync(process.execPath, [TENURE_BIN, 'serve', '--port', '0'],
      { env: { ...process.env, ...env, NODE_ENV: 'production', TENURE_PUBLIC_URL: 'http://tenure.example.com' }, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /config\.unsafe_in_production: NODE_ENV=production refuses: TENURE_PUBLIC_URL: must be the https:\/\//);
    assert.doesNotMatch(r.stderr, /serving/);
  });

  it('tenure serve in production with an https public URL starts', async () => {
    const served = await startTenure(['serve', '--port', '0'], { ...env, ...SAFE }, /serving (http:\/\/[^\s"]+)/);
    try {
      const ready = await fetch(`${served.url}/readyz`);
      assert.equal(ready.status, 200);
    } finally {
      await served.stop();
    }
  });
});
