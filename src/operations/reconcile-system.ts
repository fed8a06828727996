import { z } from 'zod';
import { isReconcilable } from '../domain/provisioning.js';
import { rawRows } from '../store/database.js';
import { authorize, requirePermission, requirePerson } from './authorize.js';
import type { Context } from '../work/context.js';
import { parseInput, ref } from './input.js';
import { runReconciliation, type ReconcileResult } from './lib/provisioning/reconcile.js';
import { provisioningSettings } from './lib/provisioning/settings.js';
import { sql } from 'drizzle-orm';

export const Input = z.object({
  /** One system; absent: every system with a connector that can list access. */
  system: ref.optional(),
  revoke: z.boolean().optional(),
  confirmMassRevoke: z.boolean().default(false),
}).strict();

/**
 * `tenure reconcile [SYSTEM]`: IAM and security compare targets with grants on demand (the worker
 * does it on each system's schedule). Removing drift past the brake is security's call.
 */
export const reconcileSystems = async (ctx: Context, input: z.input<typeof Input>): Promise<ReconcileResult[]> => {
  const data = parseInput(Input, input);
  const acting = await authorize(ctx, 'provisioning.operate');
  if (data.confirmMassRevoke) {
    requirePerson(acting, 'confirm a mass revocation');
    requirePermission(acting, 'provisioning.release_brake', 'confirmMassRevoke');
  }
  const options = { ...(data.revoke === undefined ? {} : { revoke: data.revoke }), confirmMassRevoke: data.confirmMassRevoke };
  const settings = await provisioningSettings(ctx.store.db);
  if (data.system) return [await runReconciliation(ctx, data.system, options)];
  const live = await rawRows<{ key: string }>(ctx.store.db, sql`SELECT key FROM systems WHERE NOT retired ORDER BY key`);
  const keys = live.map((s) => s.key).filter((key) => isReconcilable(settings.systems[key]));
  const results: ReconcileResult[] = [];
  for (const key of keys) results.push(await runReconciliation(ctx, key, options));
  return results;
};
