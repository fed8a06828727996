import { readFileSync } from 'node:fs';
import { TenureError } from '../domain/errors.js';
import { DEFAULT_SD_ID, jsonLine, syslogRecord, type RecordSettings, type StreamedEvent } from './records.js';
import { sendHttp, sendSyslog } from './transports.js';

/** Where a stream starts the first time it runs: the whole log (what an auditor expects), or the head. */
export type StreamStart = 'beginning' | 'now';

/** One destination of the audit stream; its position is the feed cursor `siem:<name>`. */
export interface SiemTarget {
  name: 'syslog' | 'http';
  /** For logs: the address without credentials. */
  where: string;
  start: StreamStart;
  send(events: StreamedEvent[]): Promise<void>;
}

const SEND_TIMEOUT_MS = 15_000;
const SD_NAME = /^[\x21-\x7e]{1,32}$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

const invalid = (field: string, message: string): TenureError => new TenureError('input.invalid', `${field}: ${message}`, { field });

const readFileNamed = (field: string, path: string): Buffer => {
  try {
    return readFileSync(path);
  } catch (error) {
    throw invalid(field, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
};

const parseUrl = (field: string, value: string, protocols: string[]): URL => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(field, `'${value}' is not a URL (e.g. ${protocols[0]}//siem.example.org:6514)`);
  }
  if (!protocols.includes(url.protocol)) throw invalid(field, `the scheme must be ${protocols.map((p) => p.slice(0, -1)).join(' or ')}, not ${url.protocol.slice(0, -1)}`);
  return url;
};

const syslogTarget = (env: NodeJS.ProcessEnv, value: string, start: StreamStart, records: RecordSettings): SiemTarget => {
  const field = 'TENURE_SIEM_SYSLOG';
  const url = parseUrl(field, value, ['tcp:', 'tls:']);
  if (!url.port) throw invalid(field, 'a port is required (RFC 5425 uses 6514 for TLS; rsyslog commonly listens on 514 for TCP)');
  if (url.username || url.password || (url.pathname !== '' && url.pathname !== '/') || url.search) throw invalid(field, 'only scheme://host:port is accepted');
  const protocol = url.protocol === 'tls:' ? 'tls' : 'tcp';
  const caFile = env.TENURE_SIEM_SYSLOG_CA_FILE;
  if (caFile && protocol !== 'tls') throw invalid('TENURE_SIEM_SYSLOG_CA_FILE', 'is only used with a tls:// syslog address');
  const ca = caFile ? readFileNamed('TENURE_SIEM_SYSLOG_CA_FILE', caFile) : undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const endpoint = { protocol, host, port: Number(url.port), ca } as const;
  return { name: 'syslog', where: `${protocol}://${url.host}`, start,
    send: (events) => sendSyslog(endpoint, events.map((event) => syslogRecord(event, records)), SEND_TIMEOUT_MS) };
};

/** The bearer token from the variable or, preferably, a file readable only by the service; never logged. */
const bearerToken = (env: NodeJS.ProcessEnv): string | undefined => {
  if (env.TENURE_SIEM_HTTP_TOKEN && env.TENURE_SIEM_HTTP_TOKEN_FILE) {
    throw invalid('TENURE_SIEM_HTTP_TOKEN_FILE', 'set either TENURE_SIEM_HTTP_TOKEN or TENURE_SIEM_HTTP_TOKEN_FILE, not both');
  }
  const token = env.TENURE_SIEM_HTTP_TOKEN_FILE
    ? readFileNamed('TENURE_SIEM_HTTP_TOKEN_FILE', env.TENURE_SIEM_HTTP_TOKEN_FILE).toString('utf8').trim()
    : env.TENURE_SIEM_HTTP_TOKEN;
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
    throw invalid(env.TENURE_SIEM_HTTP_TOKEN_FILE ? 'TENURE_SIEM_HTTP_TOKEN_FILE' : 'TENURE_SIEM_HTTP_TOKEN', 'the token must be printable ASCII without spaces');
  }
  return token;
};

const httpTarget = (env: NodeJS.ProcessEnv, value: string, start: StreamStart, records: RecordSettings): SiemTarget => {
  const field = 'TENURE_SIEM_HTTP';
  const url = parseUrl(field, value, ['https:', 'http:']);
  if (url.username || url.password) throw invalid(field, 'put credentials in TENURE_SIEM_HTTP_TOKEN_FILE, not in the URL');
  const token = bearerToken(env);
  // A bearer token in clear text is readable on the way: plain http only on this machine.
  if (token && url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) throw invalid(field, 'a bearer token is sent only over https (or http to a loopback address)');
  const endpoint = { url: url.toString(), token };
  return { name: 'http', where: `${url.origin}${url.pathname}`, start,
    send: (events) => sendHttp(endpoint, events.map((event) => jsonLine(event, records)), SEND_TIMEOUT_MS) };
};

const startOf = (env: NodeJS.ProcessEnv): StreamStart => {
  const value = env.TENURE_SIEM_START ?? 'beginning';
  if (value !== 'beginning' && value !== 'now') throw invalid('TENURE_SIEM_START', `'${value}' is neither beginning nor now`);
  return value;
};

/**
 * The configured SIEM targets (none when no variable is set). Read at start so a malformed setting
 * stops the service naming its variable, and again at each pass so a renewed token file is used.
 */
export const loadSiemTargets = (env: NodeJS.ProcessEnv, productVersion: string): SiemTarget[] => {
  const start = startOf(env);
  const sdId = env.TENURE_SIEM_SD_ID ?? DEFAULT_SD_ID;
  if (!SD_NAME.test(sdId) || /[= \]"]/.test(sdId) || !/^[^@]+@\d+(\.\d+)*$/.test(sdId)) {
    throw invalid('TENURE_SIEM_SD_ID', `'${sdId}' is not name@enterprise-number (RFC 5424 §6.3.2), e.g. ${DEFAULT_SD_ID}`);
  }
  const records: RecordSettings = { productVersion, sdId };
  const targets: SiemTarget[] = [];
  if (env.TENURE_SIEM_SYSLOG) targets.push(syslogTarget(env, env.TENURE_SIEM_SYSLOG, start, records));
  else if (env.TENURE_SIEM_SYSLOG_CA_FILE) throw invalid('TENURE_SIEM_SYSLOG_CA_FILE', 'is set but TENURE_SIEM_SYSLOG is not');
  if (env.TENURE_SIEM_HTTP) targets.push(httpTarget(env, env.TENURE_SIEM_HTTP, start, records));
  else if (env.TENURE_SIEM_HTTP_TOKEN || env.TENURE_SIEM_HTTP_TOKEN_FILE) throw invalid('TENURE_SIEM_HTTP_TOKEN', 'a token is set but TENURE_SIEM_HTTP is not');
  return targets;
};
