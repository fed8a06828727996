import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { sql } from 'drizzle-orm';
import { TenureError } from '../src/domain/errors.js';
import { mailSettingsFromEnv, runMailTick } from '../src/mail/index.js';
import { createRequest } from '../src/operations/create-request.js';
import { rawRows } from '../src/store/database.js';
import { freshStore } from './support/backends.js';
import { addressEveryone, PUBLIC_URL } from './support/mail-world.js';
import { buildWorld } from './support/world.js';

const refusal = (env: NodeJS.ProcessEnv) => {
  try {
    mailSettingsFromEnv({ env, dataDir: '/nonexistent', publicUrl: PUBLIC_URL });
  } catch (error) {
    return error as TenureError;
  }
  throw new Error('accepted');
};

describe('mail settings', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-mail-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a malformed TENURE_SMTP_URL or TENURE_MAIL_FROM is refused by name, without echoing a password', () => {
    for (const value of ['not a url', 'https://mail.example.org', 'ftp://user:hunter2@mail.example.org']) {
      const error = refusal({ TENURE_SMTP_URL: value });
      assert.equal(error.code, 'input.invalid');
      assert.equal(error.field, 'TENURE_SMTP_URL');
      assert.ok(!error.message.includes('hunter2'), error.message);
    }
    assert.equal(refusal({ TENURE_SMTP_URL: 'smtp://mail.example.org', TENURE_MAIL_FROM: 'nobody' }).field, 'TENURE_MAIL_FROM');
  });


  it('with a server database and no SMTP server, mail is off; smtps:// is taken as it is', () => {
    assert.equal(mailSettingsFromEnv({ env: { DATABASE_URL: 'postgres://x/y' }, dataDir, publicUrl: PUBLIC_URL }).transport, undefined);
    const tls = mailSettingsFromEnv({ env: { TENURE_SMTP_URL: 'smtps://u:secret@mail.example.org:465' }, dataDir, publicUrl: PUBLIC_URL });
    assert.equal(tls.transport?.describe, 'SMTP smtps://mail.example.org:465');
  });

  it('on the embedded default without an SMTP server, mail lands in a Maildir in the data directory, where a newcomer can read it', async () => {
    const store = await freshStore('embedded');
    try {
      const w = await buildWorld(store);
      await addressEveryone(store);
      await createRequest(await w.as('eve'), { entitlement: 'payments/read', justification: 'demo', duration: '2d' });
      const settings = mailSettingsFromEnv({ env: {}, dataDir, publicUrl: PUBLIC_URL });
      assert.equal(settings.transport?.describe, `the Maildir ${join(dataDir, 'mail', 'new')}`);
      assert.equal((await runMailTick(w.worker, { settings })).sent, 1);
      const files = readdirSync(join(dataDir, 'mail', 'new'));
      assert.equal(files.length, 1);
      const mail = await simpleParser(readFileSync(join(dataDir, 'mail', 'new', files[0]!)));
      assert.equal(mail.subject, 'Approval needed: eve asks for payments/read on payments');
      assert.deepEqual(mail.to && !Array.isArray(mail.to) ? mail.to.value.map((a) => a.address) : [], ['sam@example.org']);
    } finally {
      await store.close();
    }
  });

  it('mail that is off passes events unmailed, then and later', async () => {
    const store = await freshStore('embedded');
    try {
      const w = await buildWorld(store);
      await addressEveryone(store);
      await createRequest(await w.as('eve'), { entitlement: 'payments/read', justification: 'unmailed', duration: '2d' });
      assert.deepEqual(await runMailTick(w.worker, {}), { written: 0, sent: 0, failed: 0 });
      const [cursor] = await rawRows<{ behind: boolean }>(store.db, sql`
        SELECT (SELECT seq FROM feed_cursors WHERE name = 'mail') < (SELECT seq FROM audit_head) AS behind`);
      assert.equal(cursor?.behind, false, 'the cursor is at the head');
    } finally {
      await store.close();
    }
  });
});
