/** Separation of duties after the fact, in every worker pass: see operations/lib/sod/scan.ts. */
import { findAppliedPolicy } from '../policy/applied.js';
import { scanSodConflicts, type SodScanResult } from '../operations/lib/sod/scan.js';
import { inTransaction, type Context } from '../work/context.js';

export const scanSeparationOfDuties = (ctx: Context): Promise<SodScanResult> => inTransaction(ctx, async (work) =>
  scanSodConflicts(work, (await findAppliedPolicy(work.tx))?.separationOfDuties ?? []));
