import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { rawRows } from '../store/database.js';
import { identities, roleAssignments } from '../store/schema.js';
import { inTransaction, type Context } from '../work/context.js';
import { handle, parseInput, text } from './input.js';

export const Input = z.object({ handle, displayName: text(200), email: z.email().optional() }).strict();

/** Bootstraps an empty database with its first administrator; refused once anyone exists. */
export const initTenure = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    // Serialise concurrent bootstraps: without the lock two could both see an empty table.
    await work.tx.execute(sql`LOCK TABLE identities IN EXCLUSIVE MODE`);
    const [count] = await rawRows<{ n: number }>(work.tx, sql`SELECT count(*)::int AS n FROM identities`);
    if ((count?.n ?? 0) > 0) throw new TenureError('setup.already_initialised', 'tenure is already initialised');
    const id = newId();
    await work.tx.insert(identities).values({
      id, handle: data.handle, displayName: data.displayName, email: data.email ?? null,
      kind: 'employee', status: 'active', createdBy: null, createdAt: work.now, updatedAt: work.now,
    });
    await work.tx.insert(roleAssignments).values({ identityId: id, role: 'admin', source: 'init' });
    work.record({ action: 'setup.initialised', subject: { type: 'identity', id }, identityId: id,
      after: { handle: data.handle, role: 'admin' } });
    return { id, handle: data.handle };
  });
};
