/** Findings over time: exceptions whose end has come are open again. */
import { inTransaction, type Context } from '../work/context.js';
import { reopenLapsedAcceptances } from '../operations/lib/provisioning/findings.js';

export const reopenLapsedFindings = (ctx: Context): Promise<number> => inTransaction(ctx, reopenLapsedAcceptances);
