/** Findings over time: exceptions whose end has come are open again. */
import { inTransaction, type Context } from '../operations/context.js';
import { reopenLapsedAcceptances } from '../operations/lib/findings.js';

export const reopenLapsedFindings = (ctx: Context): Promise<number> => inTransaction(ctx, reopenLapsedAcceptances);
