import type { AnchorConfig } from '../audit/anchor.js';
import type { TrustedKeys } from '../audit/signing-key.js';
import { verifyChain, type VerifyResult } from '../audit/verify.js';
import type { Context } from '../work/context.js';
import { authorize } from './authorize.js';

export interface VerifyAuditOptions {
  trustedKeys: TrustedKeys;
  /** Where the checkpoints outside the database are (see anchorFrom). */
  anchor: AnchorConfig;
  /** How long events may stay unsigned (TENURE_AUDIT_UNSIGNED_GRACE_MS). */
  unsignedGraceMs: number;
  allowUnsigned?: boolean | undefined;
  /** For auditors: a log no checkpoint covers fails even when allowUnsigned is set. */
  strict?: boolean | undefined;
}

/**
 * Verifies the whole audit chain, its checkpoints and its anchor against `trustedKeys` (see
 * loadTrustedKeys). A broken chain is a result, not an error: the caller reports `firstBadSeq` and `reason`.
 */
export const verifyAudit = async (ctx: Context, options: VerifyAuditOptions): Promise<VerifyResult> => {
  await authorize(ctx, 'audit.read');
  return verifyChain(ctx.store.db, {
    trusted: options.trustedKeys, anchor: options.anchor, now: ctx.clock.now(),
    unsignedGraceMs: options.unsignedGraceMs, allowUnsigned: (options.allowUnsigned ?? false) && !options.strict,
  });
};
