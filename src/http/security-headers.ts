/**
 * Helmet's security headers (Content-Security-Policy, Strict-Transport-Security, X-Frame-Options
 * and the rest) on every response. Our policy is the same for every route and every request, so
 * helmet runs once at start-up and its headers are set from that list. @fastify/helmet ran helmet
 * anew on each request, parsing the policy's directives every time: about a tenth of the CPU a
 * decision-point check cost.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/** The headers helmet writes for `options`, in the order it writes them. */
export const helmetHeaders = (options: HelmetOptions): Array<[string, string]> => {
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => { headers.set(name.toLowerCase(), String(value)); },
    removeHeader: (name: string) => { headers.delete(name.toLowerCase()); },
  };
  let failure: unknown;
  // Helmet's middleware is synchronous when no directive is a function, as none of ours is.
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => { failure = error; });
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  return [...headers];
};

export const addSecurityHeaders = (app: FastifyInstance, options: HelmetOptions): void => {
  const headers = Object.fromEntries(helmetHeaders(options));
  if (Object.keys(headers).length === 0) throw new Error('helmet wrote no headers: the security headers would be missing');
  app.addHook('onRequest', (_request, reply, done) => { reply.headers(headers); done(); });
};
