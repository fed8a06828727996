/**
 * Scheduled reconciliation: every system whose policy sets `reconcile.every` is reconciled when its
 * last run is older than that. A system whose target cannot be read is reported and tried again at
 * the next pass; the others go on.
 */
import { sql } from 'drizzle-orm';
import { isReconcilable } from '../domain/provisioning.js';
import type { Context } from '../work/context.js';
import { provisioningSettings } from '../operations/lib/provisioning/settings.js';
import { runReconciliation, type ReconcileResult } from '../operations/lib/provisioning/reconcile.js';
import { rawRows } from '../store/database.js';

export interface ScheduledReconcileResult { reconciled: ReconcileResult[]; errors: { system: string; error: string }[] }

export const runDueReconciliations = async (ctx: Context): Promise<ScheduledReconcileResult> => {
  const settings = await provisioningSettings(ctx.store.db);
  const scheduled = Object.entries(settings.systems).filter(([, s]) => s.reconcile.everyMs !== null && isReconcilable(s));
  const result: ScheduledReconcileResult = { reconciled: [], errors: [] };
  if (scheduled.length === 0) return result;
  const last = await rawRows<{ key: string; finished_at: Date | null }>(ctx.store.db, sql`
    SELECT s.key, max(r.finished_at) AS finished_at FROM systems s LEFT JOIN reconciliation_runs r ON r.system_id = s.id
     WHERE NOT s.retired GROUP BY s.key`);
  const lastRun = new Map(last.map((row) => [row.key, row.finished_at ? new Date(row.finished_at).getTime() : null]));
  const now = ctx.clock.now().getTime();
  for (const [key, system] of scheduled) {
    if (!lastRun.has(key)) continue;
    const previous = lastRun.get(key);
    if (previous != null && now - previous < system.reconcile.everyMs!) continue;
    try {
      result.reconciled.push(await runReconciliation(ctx, key));
    } catch (error) {
      result.errors.push({ system: key, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return result;
};
