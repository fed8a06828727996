/**
 * One log line per request, for people and for machines. Fastify's own request logging writes two
 * JSON lines per request (incoming, completed) holding the raw URL; it is turned off and this hook
 * writes one line on completion: method, route template, path without its query, status, duration,
 * the client's address (behind TENURE_TRUST_PROXY balancers, the one they forwarded) and the request
 * id, never headers or bodies (tokens, cookies, OIDC codes).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const WARN = 40;
const LEVEL = /"level":(\d+)/;
/** An incoming X-Request-Id is kept only when short and plain, so a caller cannot forge log lines or bloat them. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Ours are this process's random prefix and a counter: unique across processes and restarts without
 * drawing random bytes per request (which cost as much as the decision a check asks for).
 */
const PROCESS_PREFIX = `req-${randomBytes(4).toString('hex')}-`;
let issued = 0;

export const requestId = (request: { headers: Record<string, string | string[] | undefined> }): string => {
  const given = request.headers[REQUEST_ID_HEADER];
  if (typeof given === 'string' && SAFE_ID.test(given)) return given;
  issued += 1;
  return PROCESS_PREFIX + issued.toString(36);
};

/** The demo sign-in link's secret travels in the path, so that path is cut short. */
export const loggedPath = (url: string): string => url.split('?')[0]!.replace(/^\/auth\/demo\/.*/, '/auth/demo/…');

export const logRequests = (app: FastifyInstance): void => {
  // Echoed so a caller can quote it when reporting a failure, and so a proxy's id runs through.
  app.addHook('onRequest', async (request, reply) => { reply.header(REQUEST_ID_HEADER, request.id); });
  app.addHook('onResponse', async (request: FastifyRequest, reply) => {
    const status = reply.statusCode;
    const line = {
      method: request.method, route: request.routeOptions.url ?? null, path: loggedPath(request.url), status,
      ms: Math.round(reply.elapsedTime), ip: request.ip, actor: request.principal?.identityId,
    };
    if (status >= 500) request.log.error(line, 'request failed');
    else request.log.info(line, 'request');
  });
};

const SHOWN_OR_DROPPED = new Set(['level', 'time', 'msg', 'err', 'reqId', 'pid', 'hostname']);

const time = (epochMs: number) => new Date(epochMs).toISOString().slice(11, 19);

/**
 * A pino JSON line as one short human line, e.g. `12:03:04 GET /v1/grants 200 3ms req-1a2b`.
 * Lines other than request lines keep their level name and message, plus an error's message.
 */
export const prettyLine = (json: string): string => {
  let entry: Record<string, unknown>;
  try { entry = JSON.parse(json) as Record<string, unknown>; } catch { return json; }
  const at = time(typeof entry.time === 'number' ? entry.time : Date.now());
  if (typeof entry.method === 'string' && typeof entry.status === 'number') {
    return `${at} ${entry.method} ${String(entry.path)} ${entry.status} ${String(entry.ms)}ms ${String(entry.reqId ?? '')}`.trimEnd() + '\n';
  }
  const names: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
  const { level, msg, err, reqId } = entry;
  // Whatever else the line carries (a pass's counts), after the message; time is shown already, pid and host are noise here.
  const fields = Object.fromEntries(Object.entries(entry).filter(([key]) => !SHOWN_OR_DROPPED.has(key)));
  const error = err as { message?: string } | undefined;
  const rest = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
  return `${at} ${names[Number(level)] ?? 'log'} ${String(msg ?? '')}${error?.message ? `: ${error.message}` : ''}${rest}${reqId ? ` ${String(reqId)}` : ''}\n`;
};

export const prettyStream = (out: { write(line: string): unknown }): { write(line: string): void } => ({ write: (line) => { out.write(prettyLine(line)); } });

export interface RequestLog { file: string; write(line: string): void; close(): Promise<void> }

/**
 * Request logs that stay out of the way: every JSON line goes to a file, and only warnings and
 * errors (pino level 40 and up) also reach the terminal, shaped by `terminal`. `serve --demo` uses
 * it so the sign-in links are not buried, while a failure still shows where it happens.
 */
export const requestLogFile = (file: string, terminal: { write(line: string): void } = process.stderr): RequestLog => {
  const out = createWriteStream(file, { flags: 'a', mode: 0o600 });
  return {
    file,
    write: (line) => {
      out.write(line);
      if (Number(LEVEL.exec(line)?.[1] ?? WARN) >= WARN) terminal.write(line);
    },
    close: () => new Promise((resolve) => { out.end(resolve); }),
  };
};
