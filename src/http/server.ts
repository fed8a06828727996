import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from './app.js';

export interface RunningServer { app: FastifyInstance; url: string; close(): Promise<void> }

/**
 * Listens on `deps.http` host and port (port 0 picks a free one, for tests). Request logs go to
 * stderr as JSON lines with method, path, status and time, never headers or bodies.
 */
export const startServer = async (deps: AppDeps, options: { log?: boolean } = {}): Promise<RunningServer> => {
  const app = await buildApp({ ...deps, logger: options.log ? { level: 'info', stream: process.stderr } : false });
  await app.listen({ port: deps.http.port, host: deps.http.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : deps.http.port;
  return { app, url: `http://${deps.http.host}:${port}`, close: () => app.close() };
};
