import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sessionTtlFrom } from '../src/auth/oidc-config.js';
import { loadHttpConfig } from '../src/config.js';
import { durationSetting, MAX_DURATION_MS, parseDuration } from '../src/domain/durations.js';
import { TenureError } from '../src/domain/errors.js';
import { startServer, type RunningServer } from '../src/http/server.js';
import { createRequest } from '../src/operations/create-request.js';
import { createToken } from '../src/operations/create-token.js';
import { durationMs } from '../src/policy/duration-schema.js';
import { expiryNoticesFromEnv } from '../src/webhooks/expiry-notices.js';
import { freshStore } from './support/backends.js';
import { buildWorld, type World } from './support/world.js';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));
const REFUSED = ['', '   ', '90', '90.5', '-5m', '-0s', '0s', 'NaN', 'Infinity', '1e400d', '4000d', '5 parsecs', '8h30', 'h'];

describe('one duration parser for policy, API, CLI and settings', () => {
  it('reads a number with a unit as milliseconds', () => {
    assert.deepEqual(['15m', '8h', '30d', '1.5h', '90s', '2 days', ' 4h '].map((t) => parseDuration(t)),
      [900_000, 28_800_000, 2_592_000_000, 5_400_000, 90_000, 172_800_000, 14_400_000].map((ms) => ({ ms })));
  });

  it('refuses empty text, bare numbers, negatives, zero, NaN and anything over ten years, saying why', () => {
    for (const text of REFUSED) {
      const parsed = parseDuration(text);
      assert.ok('rule' in parsed, `'${text}' was accepted`);
      assert.match(parsed.rule, /positive duration with a unit/);
    }
    assert.match((parseDuration('90') as { rule: string }).rule, /'90' has no unit/);
    assert.equal((parseDuration('3660d') as { ms: number }).ms, MAX_DURATION_MS);
  });

  it('a setting read at start-up names the setting in its refusal', () => {
    assert.throws(() => durationSetting('TENURE_SOMETHING', '90'), /TENURE_SOMETHING: '90' must be a positive duration with a unit/);
    assert.throws(() => expiryNoticesFromEnv({ TENURE_WEBHOOK_EXPIRY_NOTICE: '14d,90' }), /TENURE_WEBHOOK_EXPIRY_NOTICE: '90'/);
    assert.throws(() => sessionTtlFrom('90'), /TENURE_SESSION_TTL/);
    assert.equal(sessionTtlFrom('8h'), 28_800_000);
  });

  it('the policy refuses a bare number as it always did, by the same rule', () => {
    const result = durationMs.safeParse('90');
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, /'90' is not a duration: .*has no unit/);
  });
});

describe('--duration 90 is refused by the CLI, on the database and through a server', () => {
  let world: World;
  let server: RunningServer;
  let token: string;
  before(async () => {
    world = await buildWorld(await freshStore('embedded'));
    server = await startServer({ store: world.store, clock: world.clock, http: { ...loadHttpConfig({}), port: 0 } });
    token = (await createToken(await world.as('carl'), { name: 'cli-carl', scopes: ['read', 'write'] })).secret;
  });
  after(async () => { await server?.close(); await world?.store.close(); });

  it('the use case the CLI calls on the database refuses it as input naming the field duration', async () => {
    await assert.rejects(createRequest(await world.as('carl'), { entitlement: 'payments/read', justification: 'x', duration: '90' }),
      (error: TenureError) => error.code === 'input.invalid' && error.field === 'duration' && /no unit/.test(error.message));
  });

  it('the command in server mode exits 2 with a message naming the field and the rule', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tenure-duration-')), 'never-created');
    const env = { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_ACTOR: '', TENURE_SERVER: '', TENURE_TOKEN: token };
    const child = spawn(process.execPath, [BIN, '--server', server.url, 'request', 'create', '--entitlement', 'payments/read', '--reason', 'x', '--duration', '90'],
      { env, timeout: 120_000 });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 2, err);
    assert.match(err, /input\.invalid/);
    assert.match(err, /duration: .*'90' has no unit/);
  });
});
