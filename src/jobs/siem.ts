import type { SiemTarget } from '../siem/config.js';
import { streamTarget, type StreamOptions, type StreamResult } from '../siem/stream.js';
import type { Context } from '../work/context.js';

/**
 * The worker step that streams the audit log to each configured SIEM target (siem/stream.ts). Safe
 * in several processes at once: each target's lease lets one of them send at a time. A target that
 * fails is reported and tried again at the next pass; it does not stop the others.
 */
export const runSiemStep = async (ctx: Context, targets: SiemTarget[], options: StreamOptions = {}): Promise<StreamResult[]> => {
  const results: StreamResult[] = [];
  for (const target of targets) {
    try {
      results.push(await streamTarget(ctx.store.db, target, options));
    } catch (error) {
      results.push({ target: target.name, sent: 0, busy: false, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return results;
};

/** What a pass reports: events sent over all targets, and each target that failed (the rest waits for the next pass). */
export interface SiemPassResult { sent: number; errors: Array<{ target: string; error: string }> }

export const summariseSiem = (results: StreamResult[]): SiemPassResult => ({
  sent: results.reduce((n, r) => n + r.sent, 0),
  errors: results.flatMap((r) => (r.error ? [{ target: r.target, error: r.error }] : [])),
});
