import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadHttpConfig } from '../src/config.js';
import { ManualClock } from '../src/domain/clock.js';
import { buildApp } from '../src/http/app.js';
import type { Store } from '../src/store/database.js';
import { freshStore } from './support/backends.js';
import {
  apiAs, buildConsole, launchChromium, newPerson, PHONE, screenshot, signIn, signInForScreenshots, startConsole, type Console,
} from './support/browser.js';

/**
 * The web console end to end, as people use it: Debian's Chromium against `tenure serve --demo` on
 * the embedded database, each person signed in through a real OpenID provider's login form. A
 * contractor asks, his sponsor and the system owner approve from their inboxes, he sees the grant,
 * an auditor finds it; nobody sees or decides what is not theirs. The main pages are saved as screenshots
 * (docs/screenshots for the README with `npm run docs:screenshots`). The accessible names used here are the console's contract.
 */
describe('the web console in Chromium, signed in through a real OpenID provider', () => {
  let browser: Browser;
  let tenure: Console;
  const contexts: BrowserContext[] = [];
  /** Messages Chromium logs when the Content Security Policy blocks something: the console must need none. */
  const blocked: string[] = [];
  let carl: Page;
  let requestId: string;

  const person = async (viewport?: { width: number; height: number }, signedInAs?: Page) => {
    const context = await newPerson(browser, viewport, signedInAs ? await signedInAs.context().storageState() : undefined);
    context.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) blocked.push(message.text()); });
    contexts.push(context);
    return context;
  };
  const signedIn = new Map<string, Page>();
  const as = async (login: string) => {
    if (!signInForScreenshots) return signIn(await person(), tenure.base, login);
    const first = signedIn.get(login);
    const page = await signInForScreenshots(await person(undefined, first), tenure.demoLinks.get(login), login, first);
    if (!first) signedIn.set(login, page);
    return page;
  };
  const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const open = async (page: Page, name: string, heading = name) => {
    await nav(page, name).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };
  const inboxItem = (page: Page, name: string) => page.getByRole('region', { name, exact: true });
  const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

  before(async () => {
    browser = await launchChromium();
    buildConsole();
    tenure = await startConsole();
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await tenure?.stop();
  });

  it('a person signs in through the provider\'s login form and lands in the console under their handle', async () => {
    const anonymous = await (await person()).newPage();
    await anonymous.goto(`${tenure.base}/`);
    await anonymous.getByRole('link', { name: 'Sign in' }).waitFor();
    await screenshot(anonymous, 'sign-in');
    carl = await as('carl');
    assert.equal(await carl.getByTestId('signed-in-handle').textContent(), 'carl');
    await open(carl, 'Inbox');
    const me = await apiAs(carl, 'GET', '/v1/me');
    assert.deepEqual([me.body?.handle, me.body?.channel], ['carl', 'web']);
  });

  it('the contractor requests payments/read on "Request access", and a refused duration keeps what he typed', async () => {
    await open(carl, 'Request access');
    const entitlement = carl.getByRole('textbox', { name: 'Entitlement' });
    await entitlement.click();
    await entitlement.fill('payments/read');
    await carl.getByRole('option', { name: 'payments/read', exact: true }).click();
    await carl.getByRole('textbox', { name: 'Reason' }).fill('Reconcile the March batches');
    await carl.getByRole('textbox', { name: 'Ticket' }).fill('FIN-101');
    const duration = carl.getByRole('textbox', { name: 'Duration' });
    await duration.fill('forever');
    await carl.getByRole('button', { name: 'Submit request' }).click();
    // The API names the field; the console shows it there and clears nothing.
    await carl.getByText(/duration/i).and(carl.locator('.mantine-InputWrapper-error')).waitFor();
    assert.equal(await carl.getByRole('textbox', { name: 'Reason' }).inputValue(), 'Reconcile the March batches');
    assert.equal(await carl.getByRole('textbox', { name: 'Ticket' }).inputValue(), 'FIN-101');
    assert.equal(await entitlement.inputValue(), 'payments/read');
    await duration.fill('7d');
    await carl.getByRole('button', { name: 'Submit request' }).click();
    await carl.getByRole('status').filter({ hasText: 'Request submitted' }).waitFor();
    await screenshot(carl, 'request');
    const mine = await apiAs(carl, 'GET', '/v1/requests?view=mine&status=pending');
    const made = (mine.body?.items as { id: string; entitlement: string }[]).find((r) => r.entitlement === 'payments/read');
    assert.ok(made, JSON.stringify(mine.body));
    requestId = made.id;
  });

  it('the sponsor approves it from his inbox, and may not approve the next stage too', async () => {
    const sam = await as('sam');
    await open(sam, 'Inbox');
    const item = inboxItem(sam, 'carl · payments/read');
    await item.waitFor();
    await screenshot(sam, 'inbox');
    // The same session on a phone: the cookie is copied, not signed in again.
    const samOnPhone = await (await person(PHONE, sam)).newPage();
    await samOnPhone.goto(`${tenure.base}/#/inbox`);
    await inboxItem(samOnPhone, 'carl · payments/read').waitFor();
    await screenshot(samOnPhone, 'inbox-phone');
    assert.ok(await fitsWidth(samOnPhone), 'the inbox does not scroll sideways on a phone');
    const carlOnPhone = await (await person(PHONE, carl)).newPage();
    await carlOnPhone.goto(`${tenure.base}/#/request`);
    await carlOnPhone.getByRole('button', { name: 'Submit request' }).waitFor();
    await screenshot(carlOnPhone, 'request-phone');
    assert.ok(await fitsWidth(carlOnPhone), 'nor does the request form');

    await item.getByRole('textbox', { name: 'Comment' }).fill('needed for the migration');
    await item.getByRole('button', { name: 'Approve' }).click();
    await sam.getByRole('status').filter({ hasText: 'Approved' }).waitFor();
    await item.waitFor({ state: 'detached' });
    // The next stage is the system owner's: the API refuses Sam whatever the console shows.
    const again = await apiAs(sam, 'POST', `/v1/requests/${requestId}/approve`, {});
    assert.equal(again.status, 403, JSON.stringify(again.body));
    assert.equal(again.body?.code, 'request.second_stage_forbidden');
  });

  it('the system owner approves it, and the contractor sees the grant under "My access"', async () => {
    const olivia = await as('olivia');
    await open(olivia, 'Inbox');
    const item = inboxItem(olivia, 'carl · payments/read');
    // By keyboard alone: from the comment, Tab reaches Approve within a few steps, and Enter presses it.
    await item.getByRole('textbox', { name: 'Comment' }).focus();
    await olivia.keyboard.type('read-only, within scope');
    const approve = item.getByRole('button', { name: 'Approve' });
    for (let presses = 0; presses < 5 && !(await approve.evaluate((button) => button === document.activeElement)); presses += 1) {
      await olivia.keyboard.press('Tab');
    }
    assert.ok(await approve.evaluate((button) => button === document.activeElement), 'Approve is reachable with Tab');
    await olivia.keyboard.press('Enter');
    await olivia.getByRole('status').filter({ hasText: 'Approved' }).waitFor();
    await open(carl, 'My access');
    await carl.getByRole('row').filter({ hasText: 'payments/read' }).first().waitFor();
    await screenshot(carl, 'my-access');
  });

  it('the sponsor follows the engagement from the inbox and sees the new grant under it', async () => {
    const sam = await as('sam');
    await open(sam, 'Inbox');
    const waiting = inboxItem(sam, 'carl · payments/initiate');
    await waiting.getByRole('link', { name: /Acme Integrators/ }).click();
    await sam.getByRole('heading', { level: 2, name: 'Grants under this engagement' }).waitFor();
    await sam.getByRole('row').filter({ hasText: 'payments/read' }).filter({ hasText: 'active' }).waitFor();
    await screenshot(sam, 'engagement');
  });

  it('nobody sees or decides what is not theirs', async () => {
    // The demo's other request of Carl's waits for Sam: it is in Sam's inbox, not in Carl's.
    const sam = await as('sam');
    await open(sam, 'Inbox');
    await inboxItem(sam, 'carl · payments/initiate').waitFor();
    await open(carl, 'Inbox');
    await carl.getByText('Nothing waits for you.').waitFor();
    assert.equal(await inboxItem(carl, 'carl · payments/initiate').count(), 0);
    const carlsInbox = await apiAs(carl, 'GET', '/v1/requests?view=inbox');
    assert.deepEqual(carlsInbox.body?.items, []);
    const samsInbox = await apiAs(sam, 'GET', '/v1/requests?view=inbox');
    const waiting = (samsInbox.body?.items as { id: string; entitlement: string }[]).find((r) => r.entitlement === 'payments/initiate');
    assert.ok(waiting);
    const carlApproves = await apiAs(carl, 'POST', `/v1/requests/${waiting.id}/approve`, {});
    assert.equal(carlApproves.status, 403, JSON.stringify(carlApproves.body));
    // Someone who is not on the route at all is refused too, and the audit log stays out of Carl's reach.
    const olivia = await as('olivia');
    const oliviaApproves = await apiAs(olivia, 'POST', `/v1/requests/${waiting.id}/approve`, {});
    assert.equal(oliviaApproves.status, 403, JSON.stringify(oliviaApproves.body));
    assert.equal(await nav(carl, 'Audit').count(), 0);
    assert.equal((await apiAs(carl, 'GET', '/v1/audit/events?identity=carl')).status, 403);
  });

  it('an auditor finds the grant in the audit search', async () => {
    const audrey = await as('audrey');
    await open(audrey, 'Audit');
    await audrey.getByRole('textbox', { name: 'Person' }).fill('carl');
    await audrey.getByRole('textbox', { name: 'Action' }).fill('grant.created');
    await audrey.getByRole('button', { name: 'Search' }).click();
    await audrey.getByRole('row').filter({ hasText: 'grant.created' }).first().waitFor();
    await screenshot(audrey, 'audit');
    await open(audrey, 'Findings');
    // Auditors read provisioning, so they see how long removals took; a contractor's dashboard has no such panel.
    await audrey.getByRole('figure', { name: 'Revocation lag over 30 days' }).waitFor();
    await screenshot(audrey, 'findings');
    await open(carl, 'Findings');
    await carl.getByRole('figure', { name: 'Open findings by kind' }).waitFor();
    assert.equal(await carl.getByRole('figure', { name: 'Revocation lag over 30 days' }).count(), 0);
  });

  it('the other pages render for the people who use them', async () => {
    const olivia = await as('olivia');
    await open(olivia, 'Reviews');
    await screenshot(olivia, 'reviews');
    const selma = await as('selma');
    await open(selma, 'Break-glass');
    await screenshot(selma, 'break-glass');
    // Sam is Acme's relationship owner: its people, engagements and what they hold, on one page.
    const sam = await as('sam');
    await open(sam, 'Vendors');
    await sam.getByRole('link', { name: 'Acme Integrators', exact: true }).first().click();
    await sam.getByRole('heading', { level: 1, name: 'Acme Integrators' }).waitFor();
    await sam.getByRole('heading', { level: 2, name: 'Engagements' }).waitFor();
    await screenshot(sam, 'vendor');
  });

  it('a one-time link printed by serve --demo signs the administrator in once', async () => {
    const link = tenure.demoLinks.get('ada');
    assert.ok(link, `no link for ada in:\n${tenure.output()}`);
    assert.deepEqual([...tenure.demoLinks.keys()].sort(), ['ada', 'audrey', 'carl', 'olivia', 'sam', 'selma']);
    const ada = await (await person()).newPage();
    await ada.goto(link);
    await ada.getByTestId('signed-in-handle').filter({ hasText: 'ada' }).waitFor();
    assert.equal(new URL(ada.url()).pathname, '/');
    await open(ada, 'People');
    await screenshot(ada, 'people');
    await ada.getByRole('link', { name: 'carl', exact: true }).first().click();
    await ada.getByRole('heading', { level: 2, name: 'Timeline' }).waitFor();
    await ada.getByText('grant.created').first().waitFor();
    await screenshot(ada, 'person');
    await open(ada, 'Systems');
    // The systems load after the page: wait for the first one so the picture is not a spinner.
    const payments = ada.getByRole('region', { name: 'Payments platform' });
    await payments.getByText('Business owner').waitFor();
    await payments.getByText('Open drift findings').waitFor();
    await screenshot(ada, 'systems');
    // A contractor sees the same systems with their owners, but not how their connectors are doing.
    await open(carl, 'Systems');
    await carl.getByRole('region', { name: 'Payments platform' }).getByText('Business owner').waitFor();
    assert.equal(await carl.getByText('Open drift findings').count(), 0);
    const someoneElse = await (await person()).newPage();
    // A second use is refused, and the browser lands on a page that says so (test/web-newcomer.test.ts covers the wording).
    await someoneElse.goto(link);
    await someoneElse.getByRole('status').filter({ hasText: 'This sign-in link no longer works' }).waitFor();
    assert.equal(await someoneElse.getByTestId('signed-in-handle').count(), 0);
  });

  it('the console runs under the Content Security Policy without anything blocked', () => {
    assert.deepEqual(blocked, []);
  });
});

/** How `tenure serve` serves the console's files, without a browser: a stand-in build in a temporary directory. */
describe('serving the console beside the API', () => {
  let app: FastifyInstance;
  let missing: FastifyInstance;
  let store: Store;
  const root = mkdtempSync(join(tmpdir(), 'tenure-dist-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Tenure</title><script type="module" src="/assets/app-1a2b.js"></script>');
  writeFileSync(join(root, 'assets', 'app-1a2b.js'), 'console.log("tenure")');
  writeFileSync(join(root, '.env'), 'SECRET=1');
  const html = { accept: 'text/html,application/xhtml+xml' };

  before(async () => {
    store = await freshStore('embedded');
    const http = loadHttpConfig({});
    app = await buildApp({ store, clock: new ManualClock(), http, webRoot: root });
    missing = await buildApp({ store, clock: new ManualClock(), http, webRoot: join(root, 'nowhere') });
  });
  after(async () => { await app.close(); await missing.close(); await store.close(); rmSync(root, { recursive: true, force: true }); });

  it('serves the build at / and index.html for any page a browser opens, never for API paths', async () => {
    const home = await app.inject({ method: 'GET', url: '/', headers: html });
    assert.equal(home.statusCode, 200);
    assert.match(home.body, /<title>Tenure<\/title>/);
    assert.equal(home.headers['cache-control'], 'no-cache');
    const csp = String(home.headers['content-security-policy']);
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'(;|$)/, 'scripts from this origin only; WebAssembly for the session player, no eval');
    assert.doesNotMatch(csp, /upgrade-insecure-requests/, 'a plain-http public URL would break every asset');
    const asset = await app.inject({ method: 'GET', url: '/assets/app-1a2b.js' });
    assert.equal(asset.statusCode, 200);
    assert.match(String(asset.headers['content-type']), /javascript/);
    assert.match(String(asset.headers['cache-control']), /immutable/);
    const deep = await app.inject({ method: 'GET', url: '/requests/123?tab=stages', headers: html });
    assert.equal(deep.statusCode, 200);
    assert.match(deep.body, /<title>Tenure<\/title>/);
    // Nothing outside the build is ever served, however the path is spelled (a normalised path is just another page).
    for (const url of ['/%2e%2e/etc/passwd', '/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc/passwd']) {
      const response = await app.inject({ method: 'GET', url });
      assert.doesNotMatch(response.body, /root:/, url);
    }
    for (const url of ['/v1/nothing-here', '/auth/nothing', '/docs/nothing', '/assets/missing.js', '/.env', '/assets/../.env']) {
      const response = await app.inject({ method: 'GET', url, headers: url.startsWith('/assets/m') ? {} : html });
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.json().code, 'route.not_found', url);
    }
    assert.equal((await app.inject({ method: 'GET', url: '/healthz', headers: html })).statusCode, 200, 'the API keeps its own routes');
  });

  it('without a build, / says how to make one and the API is unaffected', async () => {
    const home = await missing.inject({ method: 'GET', url: '/', headers: html });
    assert.equal(home.statusCode, 404);
    assert.equal(home.json().code, 'web.not_built');
    assert.match(home.json().detail, /npm run web:build/);
    assert.equal((await missing.inject({ method: 'GET', url: '/v1/me' })).json().code, 'auth.required');
  });
});
