import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from './app.js';
import { requestLogFile } from './request-log.js';

export interface RunningServer { app: FastifyInstance; url: string; close(): Promise<void> }

/**
 * Listens on `deps.http` host and port (port 0 picks a free one, for tests). Request logs are JSON
 * lines with method, path, status and time, never headers or bodies: on stderr, or with `log.file`
 * in that file, with only warnings and errors also on stderr.
 */
export const startServer = async (deps: AppDeps, options: { log?: boolean | { file: string } } = {}): Promise<RunningServer> => {
  const file = typeof options.log === 'object' ? requestLogFile(options.log.file) : undefined;
  const app = await buildApp({ ...deps, logger: options.log ? { level: 'info', stream: file ?? process.stderr } : false });
  if (file) app.addHook('onClose', () => file.close());
  await app.listen({ port: deps.http.port, host: deps.http.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : deps.http.port;
  return { app, url: `http://${deps.http.host}:${port}`, close: () => app.close() };
};
