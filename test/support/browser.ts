/**
 * What the web console's browser tests need: Debian's Chromium driven by playwright-core (never a
 * downloaded browser), Tenure as people run it (`tenure serve --demo` in its own process on an
 * embedded data directory) with OIDC pointed at a real local provider, and signing in through that
 * provider's login form as a person would.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { freePort, startOidcProvider, type ProviderAccount, type TestProvider } from './oidc-provider.js';
import { stopper } from './processes.js';

export const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/tenure.mjs');
/**
 * Where screenshots go: a temporary directory on every test run, so the tests never rewrite the
 * committed pictures with the run's dates; `npm run docs:screenshots` points it at docs/screenshots
 * (scripts/docs-screenshots.mjs, with a fixed clock).
 */
export const SCREENSHOTS = process.env.TENURE_SCREENSHOTS_DIR || mkdtempSync(join(tmpdir(), 'tenure-screenshots-'));
/** The instant every clock starts at when the README's screenshots are refreshed (scripts/fixed-clock.mjs). */
const FIXED_NOW = process.env.TENURE_FIXED_NOW;

/** The main pages at the size the README shows them; the inbox once more at a phone's size. */
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Fails loudly, never skips: a missing browser is a broken machine, and scripts/system-deps.sh fixes it. */
export const launchChromium = async (): Promise<Browser> => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: run \`bash scripts/system-deps.sh\` (it apt-installs chromium); `
      + 'the browser tests drive Debian\'s Chromium and never download one');
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
};

/** Builds web/dist (the build script skips the work when it is up to date); the server serves what it finds there. */
export const buildConsole = (): void => {
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts/build-web.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) throw new Error(`the web console did not build (node scripts/build-web.mjs): ${run.stderr || run.stdout}`);
};

/** The demo personas as accounts at the provider: the login is the handle, the verified email the demo's. */
const EMAILS: Record<string, string> = {
  carl: 'carl@acme-integrators.example', sam: 'sam@tenure-demo.example', olivia: 'olivia@tenure-demo.example',
  selma: 'selma@tenure-demo.example', audrey: 'audrey@tenure-demo.example', ada: 'ada@tenure-demo.example',
  tom: 'tom@tenure-demo.example',
};
const ACCOUNTS: ProviderAccount[] = Object.entries(EMAILS).map(([sub, email]) => ({ sub, email, emailVerified: true }));

export interface Console {
  base: string;
  /** The OpenID provider people sign in through; none for a demo started without one (`{ oidc: false }`). */
  provider: TestProvider | undefined;
  /** The one-time links `serve --demo` printed, by handle. */
  demoLinks: Map<string, string>;
  /** What the server wrote to stdout and stderr, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the provider, then `tenure serve --demo` on a fresh embedded data directory (it loads the
 * demo into the empty database) with OIDC configured, and waits for the sign-in links it prints
 * once it listens. With `oidc: false` it is the demo as `npm start` runs it: no provider, only the links.
 */
export const startConsole = async ({ oidc = true }: { oidc?: boolean } = {}): Promise<Console> => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const provider = oidc ? await startOidcProvider({ redirectUri: `${base}/auth/callback`, accounts: ACCOUNTS }) : undefined;
  const signIn = provider ? {
    TENURE_OIDC_ISSUER: provider.issuer, TENURE_OIDC_ALLOW_HTTP: '1', TENURE_OIDC_CLIENT_ID: provider.clientId, TENURE_OIDC_CLIENT_SECRET: provider.clientSecret,
  } : { TENURE_OIDC_ISSUER: '' };
  const dir = mkdtempSync(join(tmpdir(), 'tenure-web-'));
  const child = spawn(process.execPath, [BIN, 'serve', '--demo', '--port', String(port)], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TENURE_DATA_DIR: join(dir, 'data'), DATABASE_URL: '', NODE_ENV: '', TENURE_ACTOR: '',
      TENURE_PUBLIC_URL: base, ...signIn, TENURE_WORKER_INTERVAL_MS: '1000' },
  });
  const stop = stopper(child, dir, 'SIGTERM');
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  const deadline = Date.now() + 180_000;
  // ada's link is printed last: once it is there, every link is.
  while (!/^\s+ada\s+http\S+\/auth\/demo\//m.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      await provider?.close();
      throw new Error(`tenure serve --demo did not print its sign-in links:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const demoLinks = new Map([...out.matchAll(/^\s+(\w+)\s+(http\S+\/auth\/demo\/tnd_\S+)/gm)].map((m) => [m[1]!, m[2]!]));
  return {
    base, provider, demoLinks, output: () => out,
    stop: async () => { await stop(); await provider?.close(); },
  };
};

/**
 * Runs in the page before its own scripts: every `Date` there is moved by `offset` ms, as in
 * scripts/fixed-clock.mjs. Plain JavaScript text, not a function: the test loader would add helpers to
 * a function's text that do not exist in the page.
 */
const shiftPageClock = (offset: number) => `{
  const RealDate = Date;
  class ShiftedDate extends RealDate {
    constructor(...args) { if (args.length === 0) super(RealDate.now() + ${offset}); else super(...args); }
    static now() { return RealDate.now() + ${offset}; }
  }
  globalThis.Date = ShiftedDate;
}`;

/** A browser profile of its own per person: cookies at Tenure and at the provider are never shared. */
export const newPerson = async (browser: Browser, viewport = DESKTOP, storageState?: BrowserContextOptions['storageState']): Promise<BrowserContext> => {
  const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'Europe/London', ...(storageState ? { storageState } : {}) });
  // The page's clock starts where the server's does (this process's Date is shifted the same way), and runs on.
  // Not Playwright's clock.install: it measures time with this process's Date, which the fixed clock has shifted.
  if (FIXED_NOW) await context.addInitScript({ content: shiftPageClock(Date.now() - (performance.timeOrigin + performance.now())) });
  return context;
};

/**
 * Signs in as a person does: opens the console, follows "Sign in" to the provider, types the login
 * into its form, accepts the consent page, and waits to be back in the console under their handle.
 */
export const signIn = async (context: BrowserContext, base: string, login: string): Promise<Page> => {
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByPlaceholder('Enter any login').fill(login);
  await page.getByPlaceholder('and password').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  const consent = page.getByRole('button', { name: 'Continue' });
  // The provider asks for consent on a client's first sign-in only. Whichever comes first, the consent
  // page or the way back, decides: a fixed wait for the consent page lost the race on a busy machine.
  const back = (url: URL) => url.href.startsWith(base);
  const returned = page.waitForURL(back, { timeout: 60_000 }).then(() => 'back' as const);
  returned.catch(() => undefined); // the loser of the race must not become an unhandled rejection; the wait below reports it
  const asked = consent.waitFor({ timeout: 60_000 }).then(() => 'consent' as const, () => 'none' as const);
  const next = await Promise.race([returned, asked]);
  if (next === 'consent') await consent.click();
  await page.waitForURL(back, { timeout: 60_000 });
  await page.getByTestId('signed-in-handle').filter({ hasText: login }).waitFor();
  return page;
};

/**
 * Under the fixed clock of `npm run docs:screenshots` the provider's cookies would carry expiry dates
 * in the browser's past, so there each person signs in once with the demo link `serve --demo` printed
 * for them, and every later page of theirs shares that session. Elsewhere, through the provider.
 */
export const signInForScreenshots = FIXED_NOW ? async (context: BrowserContext, link: string | undefined, login: string, reuse?: Page): Promise<Page> => {
  const page = await context.newPage();
  if (!reuse && !link) throw new Error(`no demo link for ${login}`);
  await page.goto(reuse ? new URL('/', reuse.url()).href : link!);
  await page.getByTestId('signed-in-handle').filter({ hasText: login }).waitFor();
  return page;
} : undefined;

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * The page's WCAG 2.1 A and AA failures as axe-core finds them (names and labels, roles, contrast,
 * headings), one line each. axe is evaluated through the debugging protocol, not added as a script
 * element, so the console's Content Security Policy stays as strict as in real use.
 */
export const accessibilityViolations = async (page: Page): Promise<string[]> => {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations;
  });
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
};

/**
 * Saves a screenshot of the page as it is now into SCREENSHOTS (docs/screenshots, where the README shows
 * it from, only when refreshing them) and fails if axe-core finds the page inaccessible: every page the
 * README shows is checked.
 */
export const screenshot = async (page: Page, name: string): Promise<void> => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // A screenshot of a spinner documents nothing: wait for every "Loading" and "Loading page" spinner to go, then for charts to settle.
  await page.waitForLoadState('networkidle');
  const deadline = Date.now() + 30_000;
  while (await page.getByLabel(/^Loading( page)?$/).count() > 0) {
    if (Date.now() > deadline) throw new Error(`${name}: the page was still loading after 30 s`);
    await page.waitForTimeout(100);
  }
  // The pointer is left where the test last clicked: park it so no hover style depends on that.
  await page.mouse.move(0, 0);
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false, animations: 'disabled' });
  const problems = await accessibilityViolations(page);
  if (problems.length > 0) throw new Error(`${name} is not accessible:\n${problems.join('\n')}`);
};

/**
 * Calls the API from the person's browser, with their session cookie and the console's Origin:
 * exactly what the console itself would send, so a refusal here is the refusal the console meets.
 */
export const apiAs = async (page: Page, method: 'GET' | 'POST', path: string, body?: unknown) => {
  const base = new URL(page.url()).origin;
  const response = await page.request.fetch(`${base}${path}`, {
    method, headers: { origin: base, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { data: JSON.stringify(body) }),
  });
  return { status: response.status(), body: await response.json().catch(() => undefined) as Record<string, unknown> | undefined };
};
