import { TenureError } from './domain/errors.js';

/**
 * Settings that are fine on a laptop and wrong where real access is governed. With NODE_ENV=production
 * `serve` and `worker` refuse to start on any of them, naming each, instead of trusting the operator
 * to have read the table in docs/operations.md. Without NODE_ENV=production nothing here applies.
 */
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1):\d+$/;

const RULES: { variable: string; unsafe: (env: NodeJS.ProcessEnv) => boolean; why: string }[] = [
  {
    variable: 'TENURE_PUBLIC_URL',
    unsafe: (env) => !/^https:\/\//i.test(env.TENURE_PUBLIC_URL ?? ''),
    why: 'must be the https:// address people use: session cookies are Secure only then, and the OIDC redirect must not travel in clear',
  },
  { variable: 'TENURE_OIDC_ALLOW_HTTP', unsafe: (env) => Boolean(env.TENURE_OIDC_ALLOW_HTTP), why: 'an http:// identity provider is for local tests only' },
  { variable: 'TENURE_FAILPOINTS', unsafe: (env) => Boolean(env.TENURE_FAILPOINTS), why: 'injects crashes into jobs: tests only' },
  {
    variable: 'TENURE_PG_PROXY_LISTEN',
    unsafe: (env) => Boolean(env.TENURE_PG_PROXY_LISTEN) && !LOOPBACK.test(env.TENURE_PG_PROXY_LISTEN!) && !env.TENURE_PG_PROXY_TLS_CERT,
    why: 'the PostgreSQL proxy off loopback needs TENURE_PG_PROXY_TLS_CERT/KEY: people send their token as the password',
  },
  {
    variable: 'TENURE_AUDIT_CHECKPOINTS',
    unsafe: (env) => env.TENURE_AUDIT_CHECKPOINTS === 'off',
    why: 'off leaves nothing outside the database vouching for the audit log',
  },
];

/** The rules broken, as `VARIABLE: why` lines; empty outside production. */
export const unsafeInProduction = (env: NodeJS.ProcessEnv): string[] =>
  env.NODE_ENV === 'production' ? RULES.filter((rule) => rule.unsafe(env)).map((rule) => `${rule.variable}: ${rule.why}`) : [];

export const refuseUnsafeInProduction = (env: NodeJS.ProcessEnv): void => {
  const broken = unsafeInProduction(env);
  if (broken.length === 0) return;
  throw new TenureError('config.unsafe_in_production', `NODE_ENV=production refuses: ${broken.join('; ')}`,
    { field: broken[0]!.split(':')[0] });
};
