import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadHttpConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { showProxySession } from '../src/operations/show-proxy-session.js';
import { createDemoLinks } from '../src/operations/create-demo-links.js';
import { startBreakGlass } from '../src/operations/start-break-glass.js';
import { freshStore } from './support/backends.js';
import { breakGlassPolicy } from './support/break-glass-policy.js';
import { buildConsole, launchChromium, newPerson, screenshot } from './support/browser.js';
import { grantThrough } from './support/flows.js';
import { freePort } from './support/oidc-provider.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { recordSession, recordSshSession } from './support/proxy-session-fixture.js';
import { buildWorld, HOUR, type World } from './support/world.js';

/**
 * Issue 18: recorded sessions are played in the web console. Debian's Chromium against the API and the
 * built console on real PostgreSQL, with sessions written as the proxies write them (proxy-session-fixture):
 * a PostgreSQL session reads as a statement timeline, an SSH session plays in asciinema-player under the
 * Content Security Policy and downloads as the very .cast file the audit chain vouches for, and a
 * recording a database superuser edited afterwards reads MISMATCH, in the list and on its page.
 */
describe('recorded sessions in the web console', () => {
  let browser: Browser;
  let app: FastifyInstance;
  let w: World;
  let base: string;
  const contexts: BrowserContext[] = [];
  const blocked: string[] = [];
  let carl: Page;
  let pgSession: string;
  let sshSession: string;
  let editedSession: string;
  let readGrant: string;

  /** Signs `handle` in with a one-time link, as `serve --demo` hands them out (the app below honours them). */
  const signIn = async (handle: string): Promise<Page> => {
    const [link] = await createDemoLinks(w.worker, { handles: [handle], publicUrl: base });
    const context = await newPerson(browser);
    // Chromium logs no console message when it refuses WebAssembly; the page's violation event is told either way.
    await context.addInitScript({ content: 'document.addEventListener("securitypolicyviolation", (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));' });
    context.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) blocked.push(message.text()); });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(link!.url);
    await page.getByTestId('signed-in-handle').filter({ hasText: handle }).waitFor();
    return page;
  };
  const openSessions = async (page: Page) => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sessions', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor();
  };
  const rowOf = (page: Page, session: string) => page.getByRole('row').filter({ has: page.locator(`a[href="#/sessions/${session}"]`) });

  before(async () => {
    browser = await launchChromium();
    buildConsole();
    // The clock starts now: the browser's cookies and the server's session expiry must agree.
    w = await buildWorld(await freshStore('postgres'), new Date());
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = await buildApp({ store: w.store, clock: w.clock, http: loadHttpConfig({ TENURE_PUBLIC_URL: base }), demo: { sessionTtlMs: HOUR } });
    await app.listen({ port, host: '127.0.0.1' });
    readGrant = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'quarter close', duration: '7d' }, ['sam', 'olivia']);
    const approve = await grantThrough(w, 'carl', { entitlement: 'payments/approve', justification: 'batch approvals', duration: '7d' }, ['sam', 'olivia']);
    pgSession = await recordSession(w, readGrant, [
      'SELECT count(*) FROM ledger',
      { text: 'SELECT id FROM ledger WHERE amount > $1 ORDER BY id', protocol: 'extended', params: ['1000'], durationUs: 3400, tags: ['SELECT 2'], rows: 2 },
      { text: 'UPDATE ledger SET amount = 0', durationUs: 250, tags: [], rows: 0, error: { code: '42501', message: 'permission denied for table ledger' } },
    ]);
    w.clock.advance(60_000);
    sshSession = await recordSshSession(w, approve, ['carl@app-1:~$ ', 'uptime\r\n', ' 09:00:01 up 3 days,  load average: 0.01\r\n']);
    w.clock.advance(60_000);
    editedSession = await recordSshSession(w, approve, ['carl@app-1:~$ ', 'rm -rf /srv/payments/archive\r\n']);
    // A superuser rewrites what Carl typed, after the fact and outside Tenure.
    await w.store.db.execute(sql`UPDATE proxy_statements SET record = ${JSON.stringify([1, 'o', 'ls\r\n'])} WHERE session_id = ${editedSession} AND seq = 3`);
    carl = await signIn('carl');
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
    await w?.store.close();
  });

  it('lists the person\'s sessions newest first with protocol, account, counts and verdict, the edited one as MISMATCH', async () => {
    await openSessions(carl);
    const links = carl.locator('table a[href^="#/sessions/"]');
    await links.first().waitFor();
    assert.deepEqual(await links.evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
      [editedSession, sshSession, pgSession].map((id) => `#/sessions/${id}`));
    const pg = rowOf(carl, pgSession);
    for (const text of ['carl', 'payments/read', 't_carl', 'PostgreSQL', 'client_closed', '3', 'Verified']) await pg.getByText(text, { exact: true }).waitFor();
    const ssh = rowOf(carl, sshSession);
    for (const text of ['payments/approve', 'deploy@app-1', 'SSH', '5', 'Verified']) await ssh.getByText(text, { exact: true }).waitFor();
    await rowOf(carl, editedSession).getByText('MISMATCH', { exact: true }).waitFor();
    await screenshot(carl, 'sessions');
  });

  it('a PostgreSQL session\'s page shows its facts, the verdict and the statement timeline', async () => {
    await rowOf(carl, pgSession).getByRole('link').first().click();
    await carl.getByRole('heading', { level: 1, name: 'Session of carl on payments/read' }).waitFor();
    await carl.getByRole('status').filter({ hasText: 'Recording: Verified' }).waitFor();
    const timeline = carl.getByRole('region', { name: 'Statement timeline' });
    const rows = timeline.getByRole('row');
    await rows.nth(3).getByText('UPDATE ledger SET amount = 0').waitFor();
    assert.equal(await rows.count(), 4, 'a heading row and one row per statement');
    await rows.nth(1).getByText('SELECT count(*) FROM ledger').waitFor();
    await rows.nth(1).getByText('100 µs').waitFor();
    // Time to the millisecond, duration, rows, the parameters as recorded, and a failed statement's SQLSTATE and message.
    await rows.nth(1).getByText(/^\d\d:\d\d:\d\d\.\d{3}$/).waitFor();
    for (const text of ['SELECT id FROM ledger WHERE amount > $1 ORDER BY id', '3.4 ms', '["1000"]']) await rows.nth(2).getByText(text, { exact: true }).waitFor();
    assert.equal(await rows.nth(2).getByTitle('SELECT 2').textContent(), '2', 'the rows its tags report, the tags in the title');
    await rows.nth(3).getByText('42501: permission denied for table ledger').waitFor();
    await screenshot(carl, 'session-postgres');
  });

  it('an SSH session plays in asciinema-player, and its .cast download is the recording the audit chain vouches for', async () => {
    await carl.goto(`${base}/#/sessions/${sshSession}`);
    await carl.getByRole('heading', { level: 1, name: 'Session of carl on payments/approve' }).waitFor();
    await carl.getByRole('status').filter({ hasText: 'Recording: Verified' }).waitFor();
    const player = carl.getByTestId('asciinema-player');
    // The last screen is shown before anything is played: the player loaded the recording and its terminal ran it.
    await player.getByText(/up 3 days/).waitFor({ timeout: 30_000 });
    await carl.getByRole('region', { name: 'Terminal recording' }).getByText('ended: client_closed').waitFor();
    await screenshot(carl, 'session-ssh');
    const [download] = await Promise.all([carl.waitForEvent('download'), carl.getByRole('link', { name: 'Download .cast' }).click()]);
    assert.equal(download.suggestedFilename(), `session-${sshSession}.cast`);
    const cast = readFileSync((await download.path())!, 'utf8');
    assert.match(cast.split('\n')[0]!, /^\{"version":2,"width":80,"height":24,/);
    const shown = await carl.evaluate(async (id) => (await fetch(`/v1/proxy-sessions/${id}`)).json() as Promise<{ auditedSha256: string }>, sshSession);
    assert.equal(createHash('sha256').update(cast).digest('hex'), shown.auditedSha256);
  });

  it('a recording edited after the fact reads MISMATCH on its page, as an alert, with the edited text as stored', async () => {
    await carl.goto(`${base}/#/sessions/${editedSession}`);
    await carl.getByRole('alert').filter({ hasText: 'Recording: MISMATCH' }).waitFor();
    await carl.getByText('does not hash to the digest in the audit chain', { exact: false }).waitFor();
    await carl.getByTestId('asciinema-player').waitFor();
    await screenshot(carl, 'session-mismatch');
  });

  it('a grant on "My access" links to its sessions, and someone who may read none of them sees none', async () => {
    await carl.goto(`${base}/#/access`);
    await carl.getByRole('link', { name: '2 sessions of payments/approve' }).click();
    await carl.getByText('Sessions of grant', { exact: false }).waitFor();
    await rowOf(carl, sshSession).waitFor();
    assert.equal(await carl.locator('table a[href^="#/sessions/"]').count(), 2);
    const eve = await signIn('eve');
    await openSessions(eve);
    await eve.getByText('No session you may read matches.').waitFor();
  });

  it('searches by state and person: no session is open, and sam, who sponsors carl, sees carl\'s', async () => {
    const sam = await signIn('sam');
    await openSessions(sam);
    await rowOf(sam, editedSession).waitFor();
    await sam.getByRole('textbox', { name: 'Person' }).fill('carl');
    await sam.getByRole('combobox', { name: 'State' }).selectOption({ label: 'Open' });
    await sam.getByRole('button', { name: 'Search' }).click();
    await sam.getByText('No session you may read matches.').waitFor();
    await sam.getByRole('combobox', { name: 'State' }).selectOption({ label: 'Open and ended' });
    await sam.getByRole('button', { name: 'Search' }).click();
    await rowOf(sam, editedSession).waitFor();
  });

  it('pages a long list a hundred at a time, as the other lists do: Load more brings the older ones', async () => {
    for (let i = 0; i < 100; i += 1) {
      w.clock.advance(1000);
      await recordSession(w, readGrant, [`SELECT ${i}`]);
    }
    await carl.goto(`${base}/#/inbox`);
    await openSessions(carl);
    const links = carl.locator('table a[href^="#/sessions/"]');
    await links.nth(99).waitFor();
    assert.equal(await links.count(), 100);
    assert.equal(await rowOf(carl, pgSession).count(), 0, 'the oldest are not on the first page');
    await carl.getByRole('button', { name: 'Load more' }).click();
    await rowOf(carl, pgSession).waitFor();
    assert.equal(await links.count(), 103);
    assert.equal(await carl.getByRole('button', { name: 'Load more' }).count(), 0);
  });

  it('a break-glass review lists the recorded sessions of the window, each linked to its page', async () => {
    await applyPolicyText(w, breakGlassPolicy());
    const glass = await startBreakGlass(await w.as('eve'), { entitlement: 'payments/admin', incident: 'INC-4711', reason: 'payments batch stuck' });
    w.clock.advance(60_000);
    const eves = await recordSession(w, glass.grantId, ['UPDATE batches SET state = 1 WHERE id = 7']);
    const olivia = await signIn('olivia');
    await olivia.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Break-glass', exact: true }).click();
    const review = olivia.getByRole('region', { name: 'eve · payments/admin' });
    await review.getByText('Recorded sessions').waitFor();
    await review.getByText('Verified', { exact: true }).waitFor();
    await screenshot(olivia, 'break-glass-sessions');
    await review.getByRole('link', { name: /PostgreSQL as t_eve on payments\/admin/ }).click();
    await olivia.waitForURL(`${base}/#/sessions/${eves}`);
    await olivia.getByRole('region', { name: 'Statement timeline' }).getByText('UPDATE batches SET state = 1 WHERE id = 7').waitFor();
  });

  it('a long PostgreSQL session shows its first 500 statements, Load more statements brings the rest, and its download is what the chain vouches for', async () => {
    const long = await recordSession(w, readGrant, Array.from({ length: 620 }, (_, i) => `SELECT ${i + 1}`));
    await carl.goto(`${base}/#/sessions/${long}`);
    const rows = carl.getByRole('region', { name: 'Statement timeline' }).getByRole('row');
    await rows.nth(500).getByText('SELECT 500', { exact: true }).waitFor();
    assert.equal(await rows.count(), 501, 'a heading row and the first page');
    await carl.getByRole('button', { name: 'Load more statements' }).click();
    await rows.nth(620).getByText('SELECT 620', { exact: true }).waitFor();
    assert.equal(await carl.getByRole('button', { name: 'Load more statements' }).count(), 0);
    const href = await carl.getByRole('link', { name: /^Download the whole recording/ }).getAttribute('href');
    const body = await carl.evaluate(async (url) => (await fetch(url!)).text(), href);
    const audited = (await showProxySession(await w.as('carl'), { session: long })).auditedSha256;
    assert.equal(createHash('sha256').update(body).digest('hex'), audited);
  });

  it('nothing was blocked by the Content Security Policy (the player\'s WebAssembly included)', () => {
    assert.deepEqual(blocked, []);
  });
});
