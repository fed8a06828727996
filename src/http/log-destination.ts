/**
 * Where `serve` writes its log lines (requests, and what the service says about itself) when nobody
 * captures them: standard error, through one asynchronous pino destination (sonic-boom) that both
 * share, so their lines never interleave.
 *
 * Why not process.stderr: into a pipe or socket (journald, a container runtime, a supervisor), each
 * line became a write request of its own, queued while the reader caught up. At thousands of
 * requests a second those queued lines outlived two young-generation collections and were promoted,
 * which made every collection slow: the p99 of a decision-point check was four times what it is
 * without request logging. sonic-boom joins the lines written while a write is in flight into the
 * next one, so a line lives only until the next write.
 *
 * Bounded: a reader that stops reading (a stuck log shipper) holds at most MAX_BUFFERED_BYTES here.
 * Past that, lines are dropped and counted (tenure_log_lines_dropped_total) rather than the process
 * growing without end or every request waiting on the log. Lines still buffered when the process
 * exits are written out synchronously (pino registers its destinations for that).
 */
import { pino } from 'pino';
import { countDroppedLogLines } from '../metrics/process.js';

export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export interface LogDestination { write(line: string): unknown }

let destination: LogDestination | undefined;

/** One per process: two writers on one file descriptor could split each other's lines. */
export const stderrDestination = (): LogDestination => {
  if (destination) return destination;
  const stream = pino.destination({ dest: 2, sync: false, maxLength: MAX_BUFFERED_BYTES });
  stream.on('drop', (data: string) => { countDroppedLogLines(data.split('\n').length - 1 || 1); });
  destination = stream;
  return stream;
};
