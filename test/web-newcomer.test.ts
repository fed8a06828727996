import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildConsole, launchChromium, newPerson, screenshot, startConsole, type Console } from './support/browser.js';

/**
 * What a newcomer meets in the demo as `npm start` runs it (no OpenID provider, only the one-time links
 * `serve --demo` prints): signing out and a used link say what to do; approvers see what they decide on
 * and where the request goes next; the request form, the audit log, findings and reviews read as people
 * talk. Each page is checked with axe-core by `screenshot`, as in web-e2e.test.ts.
 */
describe('the demo console as a newcomer meets it', () => {
  let browser: Browser;
  let tenure: Console;
  const contexts: BrowserContext[] = [];
  const blocked: string[] = [];
  /** Answers of 403 the console met: a page that asks for what it may not see shows it as an error. */
  const refused: string[] = [];
  let carl: Page;
  let ada: Page;

  const person = async () => {
    const context = await newPerson(browser);
    context.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) blocked.push(message.text()); });
    context.on('response', (response) => { if (response.status() === 403) refused.push(response.url()); });
    contexts.push(context);
    return context;
  };
  const signInWithLink = async (handle: string): Promise<Page> => {
    const page = await (await person()).newPage();
    await page.goto(tenure.demoLinks.get(handle)!);
    await page.getByTestId('signed-in-handle').filter({ hasText: handle }).waitFor();
    return page;
  };
  const open = async (page: Page, name: string) => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
  };
  const status = (page: Page, text: string | RegExp) => page.getByRole('status').filter({ hasText: text });

  before(async () => {
    browser = await launchChromium();
    buildConsole();
    tenure = await startConsole({ oidc: false });
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await tenure?.stop();
  });

  it('a used demo link leads to a page that says it no longer works and how to get new links', async () => {
    const link = tenure.demoLinks.get('selma')!;
    await signInWithLink('selma');
    const again = await (await person()).newPage();
    await again.goto(link);
    await status(again, 'This sign-in link no longer works').waitFor();
    await again.getByText(/start tenure serve --demo again/).waitFor();
    assert.equal(await again.getByRole('link', { name: 'Sign in' }).count(), 0, 'no button that leads to a provider the demo does not have');
    await screenshot(again, 'demo-link-used');
    const program = await again.request.get(link, { headers: { accept: 'application/json' }, maxRedirects: 0 });
    assert.equal(program.status(), 400, 'a program still gets the problem');
    assert.equal((await program.json()).code, 'auth.demo_link_invalid');
  });

  it('after Sign out the page says how to sign in to the demo again, and /auth/login explains itself', async () => {
    const audrey = await signInWithLink('audrey');
    const other = await audrey.context().newPage();
    await audrey.getByRole('button', { name: 'Sign out' }).click();
    await status(audrey, 'You are signed out').waitFor();
    await audrey.getByText(/one-time links printed in the terminal/).waitFor();
    assert.equal(await audrey.getByRole('link', { name: 'Sign in' }).count(), 0);
    await screenshot(audrey, 'signed-out');
    await other.goto(`${tenure.base}/auth/login`);
    await status(other, 'Sign-in through your organisation is not set up here').waitFor();
    assert.equal(new URL(other.url()).pathname, '/');
  });

  it('the request form shows a stable maximum and a refused duration in its own words, cleared on change', async () => {
    carl = await signInWithLink('carl');
    await open(carl, 'Request access');
    const entitlement = carl.getByRole('textbox', { name: 'Entitlement' });
    await entitlement.fill('payments/read');
    await carl.getByRole('option', { name: 'payments/read', exact: true }).click();
    const maximum = carl.getByText(/^Maximum duration:/);
    assert.match(await maximum.textContent() ?? '', /^Maximum duration: (\d+ days|until your engagement ends \(about \d+ days\))$/);
    await carl.getByRole('textbox', { name: 'Reason' }).fill('Reconcile the March batches');
    const duration = carl.getByRole('textbox', { name: 'Duration' });
    await duration.fill('400d');
    await carl.getByRole('button', { name: 'Submit request' }).click();
    const error = carl.locator('.mantine-InputWrapper-error').filter({ hasText: /^Too long/ });
    await error.waitFor();
    assert.doesNotMatch(await error.textContent() ?? '', /endsAt/);
    await screenshot(carl, 'request-too-long');
    await duration.fill('7d');
    await error.waitFor({ state: 'detached' });
  });

  it('the sponsor\'s Approve names the request and says it now waits for the system owner', async () => {
    const sam = await signInWithLink('sam');
    const item = sam.getByRole('region', { name: 'carl · payments/initiate', exact: true });
    await item.getByRole('button', { name: 'Approve' }).click();
    await status(sam, /Approved carl · payments\/initiate: it now waits for the next stage, system owner \(.*olivia/).waitFor();
    await screenshot(sam, 'inbox-approved');
  });

  it('the system owner sees his current access and engagement to decide, with links like the rest of the console', async () => {
    const olivia = await signInWithLink('olivia');
    const item = olivia.getByRole('region', { name: 'carl · payments/initiate', exact: true });
    await item.getByText('Current access').waitFor();
    const engagement = item.getByRole('link', { name: /Acme Integrators/ });
    await engagement.waitFor();
    assert.equal(await item.getByText(/not visible to you/).count(), 0);
    assert.deepEqual(refused, [], 'the console met no 403 on the way');
    for (const link of [engagement, item.getByRole('link', { name: 'carl', exact: true })]) {
      assert.match(await link.getAttribute('class') ?? '', /mantine-Anchor-root/);
    }
    await screenshot(olivia, 'inbox-approver');
    await item.getByRole('button', { name: 'Approve' }).click();
    await status(olivia, /Approved carl · payments\/initiate: (that was the last stage, the access is granted|it now waits for the next stage)/).waitFor();
  });

  it('the audit log opens on the newest events, with actors and subjects by name and the event readable in full', async () => {
    ada = await signInWithLink('ada');
    await open(ada, 'Audit');
    await ada.getByRole('columnheader', { name: 'Actor' }).waitFor();
    const rows = ada.getByRole('row').filter({ has: ada.getByRole('button', { name: /^Show event/ }) });
    await rows.first().waitFor();
    const seqs = (await rows.locator('td:first-child').allTextContents()).map(Number);
    assert.ok(seqs.length > 1 && seqs[0]! > seqs.at(-1)!, `newest first: ${seqs.slice(0, 5).join(', ')}`);
    const text = (await rows.allTextContents()).join('\n');
    assert.doesNotMatch(text, /(request|grant|identity) [0-9a-f]{8}-[0-9a-f]{4}-/, 'subjects by name, not by UUID');
    assert.match(text, /olivia \(Olivia Owner\) via web/);
    await rows.filter({ hasText: 'request.approved' }).first().getByRole('button', { name: /^Show event/ }).click();
    const after = ada.getByRole('region', { name: /^Event \d+/ }).locator('pre').nth(1);
    assert.ok(await after.evaluate((pre) => pre.scrollWidth <= pre.clientWidth + 1), 'the After JSON is not cut at the right edge');
    await screenshot(ada, 'audit-latest');
  });

  it('findings read as dates and deadlines, provisioning explains itself, and the lag axis has round ticks', async () => {
    const page = await ada.context().newPage();
    await page.goto(`${tenure.base}/#/findings`);
    await page.getByRole('heading', { level: 1, name: 'Findings' }).waitFor();
    const lag = page.getByRole('figure', { name: 'Revocation lag over 30 days' });
    // The axes' labels: the days (MM-DD) along the bottom, the spans up the side.
    await lag.locator('tspan').first().waitFor({ state: 'attached' });
    const ticks = (await lag.locator('tspan').allTextContents()).filter((t) => !/^\d{2}-\d{2}$/.test(t));
    assert.ok(ticks.length > 1, `the lag axis has ticks: ${ticks.join(', ')}`);
    // Whole minutes, hours or half days: never 8h 20m.
    for (const tick of ticks) assert.match(tick, /^(0s|\d+[mh]|\d+d( 12h)?)$/, `a round tick: ${ticks.join(', ')}`);
    const table = page.getByRole('table').last();
    const cells = (await table.locator('tbody tr').allTextContents()).join('\n');
    assert.doesNotMatch(cells, /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/, 'no raw ISO instants');
    assert.match(cells, /no deadline: by severity|accepted until|\d{4}/);
    await screenshot(page, 'findings-explained');
    await page.goto(`${tenure.base}/#/people/carl`);
    const state = page.getByRole('table').first().locator('tbody tr td:nth-child(5) span').first();
    await state.hover();
    await page.getByRole('tooltip').filter({ hasText: /target system/ }).waitFor();
  });

  it('those allowed start a review campaign from Reviews; a contractor is offered no such form', async () => {
    const page = await ada.context().newPage();
    await page.goto(`${tenure.base}/#/reviews`);
    const form = page.getByRole('form', { name: 'Start a review campaign' });
    await form.getByRole('textbox', { name: 'Name' }).fill('Contractors, December');
    await form.getByRole('button', { name: 'Start campaign' }).click();
    await status(page, /Campaign started|Nothing in that scope/).waitFor();
    await form.scrollIntoViewIfNeeded();
    await screenshot(page, 'reviews-campaign');
    await open(carl, 'Reviews');
    assert.equal(await carl.getByRole('form', { name: 'Start a review campaign' }).count(), 0);
  });

  it('the console has a favicon and runs under the Content Security Policy without anything blocked', async () => {
    const icon = await ada.request.get(`${tenure.base}/favicon.ico`);
    assert.equal(icon.status(), 200);
    assert.match(icon.headers()['content-type'] ?? '', /icon/);
    assert.deepEqual(blocked, []);
  });
});
