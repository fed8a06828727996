/**
 * Where metrics are served, from the environment: TENURE_METRICS_ADDRESS (host:port of a listener of
 * its own, unset: none) and TENURE_METRICS_TOKEN or TENURE_METRICS_TOKEN_FILE (a bearer token the
 * scraper must send). A listener reachable from other machines needs the token: counts by system and
 * finding kind say what an attacker would like to know.
 */
import { readFileSync } from 'node:fs';

export interface MetricsConfig { host: string; port: number; token: string | undefined }

/** Long enough that guessing it is hopeless (a 32-byte random value in base64 or hex is longer). */
const MIN_TOKEN_LENGTH = 32;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

const parseAddress = (value: string): { host: string; port: number } => {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65_535) {
    throw new Error(`TENURE_METRICS_ADDRESS must be host:port, such as 127.0.0.1:9464 or [::1]:9464 (is '${value}')`);
  }
  return { host: match[1] ?? match[2]!, port };
};

const readToken = (env: NodeJS.ProcessEnv): string | undefined => {
  if (env.TENURE_METRICS_TOKEN && env.TENURE_METRICS_TOKEN_FILE) throw new Error('set TENURE_METRICS_TOKEN or TENURE_METRICS_TOKEN_FILE, not both');
  const token = env.TENURE_METRICS_TOKEN_FILE ? readFileSync(env.TENURE_METRICS_TOKEN_FILE, 'utf8').trim() : env.TENURE_METRICS_TOKEN || undefined;
  // The message never repeats the token.
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) throw new Error(`the metrics token must be at least ${MIN_TOKEN_LENGTH} characters`);
  return token;
};

/** Undefined when no metrics listener is configured; throws on a setting that is wrong rather than guessing. */
export const loadMetricsConfig = (env: NodeJS.ProcessEnv = process.env): MetricsConfig | undefined => {
  const token = readToken(env);
  if (!env.TENURE_METRICS_ADDRESS) {
    if (token !== undefined) throw new Error('a metrics token is set but TENURE_METRICS_ADDRESS is not: metrics are only served on their own listener');
    return undefined;
  }
  const { host, port } = parseAddress(env.TENURE_METRICS_ADDRESS);
  if (token === undefined && !LOOPBACK.test(host)) {
    throw new Error(`TENURE_METRICS_ADDRESS ${env.TENURE_METRICS_ADDRESS} is reachable from other machines: set TENURE_METRICS_TOKEN (or _FILE) too, or listen on 127.0.0.1`);
  }
  return { host, port, token };
};
