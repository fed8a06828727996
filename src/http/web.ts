import { existsSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TenureError } from '../domain/errors.js';

/** Where `node scripts/build-web.mjs` (npm run web:build) writes the console: web/dist at the repository root. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));

/**
 * Paths that belong to the API and never fall back to the console: an unknown API path must stay a
 * 404 problem, not turn into an HTML page a program would try to parse.
 */
const SERVER_PATHS = ['/v1', '/auth', '/docs', '/openapi.json', '/healthz', '/readyz'];
const isServerPath = (path: string) => SERVER_PATHS.some((p) => path === p || path.startsWith(`${p}/`));

/** Vite puts a content hash in every asset's name, so an asset never changes under its URL. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current assets: always revalidated, so a new build is seen at once. */
const REVALIDATE = 'no-cache';

const notFound = (request: FastifyRequest) =>
  new TenureError('route.not_found', `no route ${request.method} ${request.url.split('?')[0]}`);

/** The request path, decoded; undefined for anything malformed or trying to step out of the root. */
const pathOf = (request: FastifyRequest): string | undefined => {
  let path: string;
  try {
    path = decodeURIComponent(request.url.split('?')[0]!);
  } catch {
    return undefined;
  }
  // Dot files and `..` are never part of a build; NUL and backslashes are never part of a good URL.
  if (/[\0\\]/.test(path) || path.split('/').some((segment) => segment.startsWith('.'))) return undefined;
  return path;
};

/** A regular file of the build at `path`, as a path relative to the root, or undefined. */
const fileIn = (root: string, path: string): string | undefined => {
  const full = resolve(root, `.${path}`);
  if (!full.startsWith(root + sep)) return undefined;
  try {
    return statSync(full).isFile() ? full.slice(root.length + 1) : undefined;
  } catch {
    return undefined;
  }
};

const send = (reply: FastifyReply, root: string, file: string, cacheControl: string) =>
  reply.header('cache-control', cacheControl).sendFile(file, root, { cacheControl: false });

/**
 * Serves the web console (a Vite single-page app) from `root` at `/`: a file of the build when the
 * path names one, else index.html for any page a browser navigates to (Accept: text/html), so
 * /requests/123 reloads into the app, which routes on the client. It is one public route: the
 * console's files hold no data; everything it shows comes from the API, which refuses what the
 * signed-in person may not do exactly as it refuses any other client. When the console has not been
 * built, `/` says how to build it and the API works as before.
 */
export const registerWebConsole = async (app: FastifyInstance, root: string = DEFAULT_WEB_ROOT): Promise<void> => {
  // serve: false only adds reply.sendFile; the route below decides what is served and declares its access.
  await app.register(fastifyStatic, { serve: false });
  const built = () => existsSync(resolve(root, 'index.html'));
  app.get('/*', { config: { access: { public: true } }, schema: { hide: true } }, async (request, reply) => {
    const path = pathOf(request);
    if (path === undefined || isServerPath(path)) throw notFound(request);
    const wantsPage = (request.headers.accept ?? '').includes('text/html');
    if (!built()) {
      if (path === '/' || wantsPage) {
        throw new TenureError('web.not_built', 'the web console is not built here: run npm run web:build (node scripts/build-web.mjs); the API is at /v1 and documented at /docs');
      }
      throw notFound(request);
    }
    const file = path === '/' ? undefined : fileIn(root, path);
    if (file) return send(reply, root, file, file.startsWith(`assets${sep}`) ? IMMUTABLE : REVALIDATE);
    if (path === '/' || wantsPage) return send(reply, root, 'index.html', REVALIDATE);
    throw notFound(request);
  });
};
