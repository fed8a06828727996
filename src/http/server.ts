import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from './app.js';
import { stderrDestination, type LogDestination } from './log-destination.js';
import type { LogSettings } from './log-settings.js';
import { prettyStream, requestLogFile } from './request-log.js';

export interface RunningServer { app: FastifyInstance; url: string; close(): Promise<void> }

export interface ServerLog extends Partial<LogSettings> {
  /** Every JSON line goes to this file, with only warnings and errors on the terminal (`serve --demo`). */
  file?: string | undefined;
  /** Where lines go; stderr unless a test captures them. */
  stream?: LogDestination | undefined;
}

/**
 * Listens on `deps.http` host and port (port 0 picks a free one, for tests). Each request gives one
 * line (request-log.ts), JSON or a short human line as `log.format` says, never headers or bodies.
 */
export const startServer = async (deps: AppDeps, options: { log?: boolean | ServerLog } = {}): Promise<RunningServer> => {
  const log: ServerLog | undefined = options.log === true ? {} : options.log || undefined;
  const terminal = log?.stream ?? stderrDestination();
  const shaped = log?.format === 'pretty' ? prettyStream(terminal) : terminal;
  const file = log?.file ? requestLogFile(log.file, shaped) : undefined;
  const logger = log && log.level !== 'silent' ? { level: log.level ?? 'info', stream: file ?? shaped } : false;
  const app = await buildApp({ ...deps, logger });
  if (file) app.addHook('onClose', () => file.close());
  await app.listen({ port: deps.http.port, host: deps.http.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : deps.http.port;
  return { app, url: `http://${deps.http.host}:${port}`, close: () => app.close() };
};
