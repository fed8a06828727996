/**
 * What `serve` and `worker` say about themselves (start, stop, each pass that did something,
 * failures), shaped like the request lines beside them: JSON for log shippers, a short human line
 * on a terminal or in the demo, as TENURE_LOG_FORMAT and TENURE_LOG_LEVEL say (http/log-settings.ts).
 * Before, these were plain text in the middle of JSON request lines, which a shipper cannot parse.
 */
import { pino, type Logger } from 'pino';
import { loadLogSettings, type LogSettings } from '../http/log-settings.js';
import type { LogDestination } from '../http/log-destination.js';
import { prettyStream } from '../http/request-log.js';

let logger: Logger | undefined;

/** `serve` configures it with what it read at start (the demo is pretty); otherwise the environment decides. */
export const configureServiceLog = (settings: LogSettings, out: LogDestination = process.stderr): void => {
  // No pid or hostname on every line: the process supervisor or the shipper adds where a line came from.
  logger = pino({ level: settings.level, base: undefined }, settings.format === 'pretty' ? prettyStream(out) : out);
};

const current = (): Logger => {
  if (!logger) configureServiceLog(loadLogSettings(process.env, { tty: process.stderr.isTTY === true }));
  return logger!;
};

/** Fields go into the JSON line as they are, and after the message on a human line. */
type Fields = Record<string, unknown>;

export const log = {
  info: (message: string, fields?: Fields): void => { current().info(fields ?? {}, message); },
  warn: (message: string, fields?: Fields): void => { current().warn(fields ?? {}, message); },
  error: (message: string, fields?: Fields): void => { current().error(fields ?? {}, message); },
};
