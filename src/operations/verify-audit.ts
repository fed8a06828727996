import type { TrustedKeys } from '../audit/signing-key.js';
import { verifyChain, type VerifyResult } from '../audit/verify.js';
import type { Context } from './context.js';
import { requirePermission } from './lib/audit-access.js';

/**
 * Verifies the whole audit chain and its checkpoints against `trustedKeys` (see loadTrustedKeys).
 * A broken chain is a result, not an error: the caller reports `firstBadSeq` and `reason`.
 */
export const verifyAudit = async (ctx: Context, options: { trustedKeys: TrustedKeys }): Promise<VerifyResult> => {
  await requirePermission(ctx, 'audit.read');
  return verifyChain(ctx.store.db, options.trustedKeys);
};
