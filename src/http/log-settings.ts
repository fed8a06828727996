/**
 * How request logs look, from the environment: TENURE_LOG_FORMAT (json or pretty) and
 * TENURE_LOG_LEVEL (pino's levels, or silent). JSON is for machines (log shippers), so it is the
 * default unless a person is watching: stderr is a terminal, or `serve --demo`.
 */
import { TenureError } from '../domain/errors.js';

export const LOG_FORMATS = ['json', 'pretty'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogFormat = typeof LOG_FORMATS[number];
export type LogLevel = typeof LOG_LEVELS[number];
export interface LogSettings { format: LogFormat; level: LogLevel }

const oneOf = <T extends string>(variable: string, allowed: readonly T[], value: string | undefined, fallback: T): T => {
  const given = value?.trim();
  if (!given) return fallback;
  if ((allowed as readonly string[]).includes(given)) return given as T;
  throw new TenureError('input.invalid', `${variable}: must be one of ${allowed.join(', ')} (is '${given}')`, { field: variable });
};

export const loadLogSettings = (env: NodeJS.ProcessEnv, context: { demo?: boolean; tty?: boolean } = {}): LogSettings => ({
  format: oneOf('TENURE_LOG_FORMAT', LOG_FORMATS, env.TENURE_LOG_FORMAT, context.demo || context.tty ? 'pretty' : 'json'),
  level: oneOf('TENURE_LOG_LEVEL', LOG_LEVELS, env.TENURE_LOG_LEVEL, 'info'),
});
