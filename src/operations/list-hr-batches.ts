import { desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { HR_BATCH_STATUSES } from '../domain/hr.js';
import { hrBatches } from '../store/schema-hr.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput } from './input.js';

export const Input = z.object({ status: z.enum(HR_BATCH_STATUSES).optional() }).strict();

/** HR batches the suspension brake held, newest first: what security must look at, and what it decided. */
export const listHrBatches = async (ctx: Context, input: z.input<typeof Input> = {}) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    await authorize(work, 'hr.read');
    const rows = await work.tx.select().from(hrBatches).where(data.status ? eq(hrBatches.status, data.status) : undefined)
      .orderBy(desc(hrBatches.createdAt)).limit(200);
    return rows.map((b) => ({ id: b.id, status: b.status, events: b.events, wouldSuspend: b.wouldSuspend, population: b.population,
      createdAt: b.createdAt, decidedAt: b.decidedAt, reason: b.reason }));
  });
};
