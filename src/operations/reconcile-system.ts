import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { allows } from '../domain/permissions.js';
import { isReconcilable } from '../domain/provisioning.js';
import { rawRows } from '../store/database.js';
import { loadActor, requirePerson } from './authorize.js';
import type { Context } from './context.js';
import { parseInput, ref } from './input.js';
import { runReconciliation, type ReconcileResult } from './lib/reconcile.js';
import { provisioningSettings } from './lib/provisioning-settings.js';
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
  const acting = await loadActor(ctx.store.db, ctx.actor.id);
  if (!allows(acting.roles, 'provisioning.operate')) throw new TenureError('actor.forbidden', `${acting.identity.handle} may not run reconciliation`);
  if (data.confirmMassRevoke) requirePerson(acting, 'confirm a mass revocation');
  if (data.confirmMassRevoke && !allows(acting.roles, 'provisioning.release_brake')) {
    throw new TenureError('actor.forbidden', 'only security confirms a removal above the mass-revocation brake', { field: 'confirmMassRevoke' });
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
