import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

/**
 * An account at the test provider: the dev login form signs in as whatever `sub` is typed in. `amr`
 * and `acr` are how that sign-in is said to have been made (the provider puts them in the ID token).
 */
export interface ProviderAccount {
  sub: string; email?: string; emailVerified?: boolean; amr?: string[]; acr?: string;
  /** When the person authenticated at the provider (ms): the ID token's auth_time; default now. A reused single sign-on session is older. */
  authTime?: number;
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

/** The slice of oidc-provider's API the test uses (the package ships no type declarations). */
interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: unknown, options: { mergeWithLastSubmission: boolean }): Promise<void>;
}
type ProviderClass = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;

const formOf = async (req: IncomingMessage): Promise<URLSearchParams> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
};

/** The request again with its body, for the provider's own handler once this one has read it. */
const withBody = (req: IncomingMessage, form: URLSearchParams): IncomingMessage => {
  const body = Buffer.from(form.toString());
  const replay = Readable.from([body]) as unknown as IncomingMessage;
  Object.assign(replay, { method: req.method, url: req.url, headers: { ...req.headers, 'content-length': String(body.length) },
    socket: req.socket, connection: req.socket, httpVersion: req.httpVersion });
  return replay;
};

/** A port free right now: Tenure's public URL (and so its redirect URI) must be known before it starts. */
export { freePort } from './processes.js';

/**
 * A real OpenID provider (oidc-provider, with its development login and consent pages) on
 * 127.0.0.1 over http, with one confidential client whose only redirect URI is Tenure's callback.
 * It follows the OpenID Connect Core default for the code flow: email claims come from UserInfo.
 */
export const startOidcProvider = async (options: { redirectUri: string; accounts: ProviderAccount[] }): Promise<TestProvider> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new Map(options.accounts.map((account) => [account.sub, account]));
  const clientId = 'tenure-test';
  const clientSecret = 'test-client-secret-that-is-long-enough-0123456789';
  const { default: Provider } = await import('oidc-provider' as string) as { default: ProviderClass };
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [options.redirectUri],
      grant_types: ['authorization_code'], response_types: ['code'], require_auth_time: true }],
    // amr and acr reach the ID token only as claims of a scope the client asks for (openid here).
    claims: { openid: ['sub', 'amr', 'acr'], email: ['email', 'email_verified'] },
    cookies: { keys: ['oidc-test-cookie-key'] },
    findAccount: (_ctx: unknown, sub: string) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: () => ({ sub, email: account.email, email_verified: account.emailVerified }) };
    },
  });
  const handle = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // The development login form only names the account; its submission is finished here instead,
    // with the account's amr, acr and time, as a real provider's login (with or without a second factor) would.
    if (req.method !== 'POST' || !/^\/interaction\/[^/]+$/.test(req.url ?? '')) { handle(req, res); return; }
    void formOf(req).then(async (form) => {
      if (form.get('prompt') !== 'login') { handle(withBody(req, form), res); return; }
      const account = accounts.get(form.get('login') ?? '');
      const login = { accountId: form.get('login'), ...(account?.amr ? { amr: account.amr } : {}), ...(account?.acr ? { acr: account.acr } : {}),
        ...(account?.authTime ? { ts: Math.floor(account.authTime / 1000) } : {}) };
      await provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
    }).catch(() => { res.statusCode = 500; res.end(); });
  });
  return {
    issuer, clientId, clientSecret,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
};

/** A browser without a browser: fetch with a cookie jar per host, redirects followed by the caller. */
export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();

  cookie(url: string, name: string): string | undefined {
    return this.jar.get(new URL(url).host)?.get(name);
  }

  setCookie(url: string, name: string, value: string): void {
    const host = new URL(url).host;
    if (!this.jar.has(host)) this.jar.set(host, new Map());
    this.jar.get(host)!.set(name, value);
  }

  async fetch(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const cookies = [...(this.jar.get(new URL(url).host) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`);
    const response = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'), redirect: 'manual',
      headers: cookies.length > 0 ? { cookie: cookies.join('; ') } : {},
      ...(init.form ? { body: new URLSearchParams(init.form) } : {}),
    });
    for (const line of response.headers.getSetCookie()) this.remember(url, line);
    return response;
  }

  private remember(url: string, line: string): void {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const name = pair.slice(0, pair.indexOf('='));
    const value = pair.slice(pair.indexOf('=') + 1);
    const expires = attributes.find((a) => /^expires=/i.test(a));
    const gone = value === '' || attributes.some((a) => /^max-age=0$/i.test(a))
      || (expires !== undefined && new Date(expires.slice(8)).getTime() < Date.now());
    if (gone) this.jar.get(new URL(url).host)?.delete(name);
    else this.setCookie(url, name, value);
  }
}

/**
 * Drives the provider's development pages as a person would: follows redirects, types `sub` into
 * the login form, accepts the consent form, and stops at the redirect back to `callbackPrefix`.
 */
export const passProvider = async (browser: Browser, startUrl: string, sub: string, callbackPrefix: string): Promise<string> => {
  let url = startUrl;
  let response = await browser.fetch(url);
  for (let step = 0; step < 20; step += 1) {
    const location = response.headers.get('location');
    if (location) {
      url = new URL(location, url).href;
      if (url.startsWith(callbackPrefix)) return url;
      response = await browser.fetch(url);
      continue;
    }
    const page = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(page)?.[1];
    if (!action || !prompt) throw new Error(`no form at ${url} (${response.status}): ${page.slice(0, 300)}`);
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
    response = await browser.fetch(url, { form: prompt === 'login' ? { prompt, login: sub, password: 'any' } : { prompt } });
  }
  throw new Error('the provider never redirected back');
};
