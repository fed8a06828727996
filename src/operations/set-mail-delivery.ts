import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { MAIL_DELIVERY_MODES } from '../domain/mail.js';
import { findIdentity, lockIdentity } from '../store/queries/identities.js';
import { identities } from '../store/schema.js';
import { loadActor, requirePermission } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput, ref } from './input.js';

export const Input = z.object({
  identity: ref.optional().describe('whose setting (id or handle); default: the caller'),
  mailDelivery: z.enum(MAIL_DELIVERY_MODES).describe('immediate: each message at once; daily_digest: non-urgent mail gathered into one message a day'),
}).strict();

/**
 * How a person receives non-urgent mail (docs/notifications.md). Anyone sets their own; changing
 * someone else's takes identity.change_status (admin, IAM). Urgent mail goes at once either way.
 */
export const setMailDelivery = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const found = data.identity ? await findIdentity(work.tx, data.identity) : acting.identity;
    if (found.id !== acting.identity.id) requirePermission(acting, 'identity.change_status', 'identity');
    const person = await lockIdentity(work.tx, found.id);
    const result = { handle: person.handle, mailDelivery: data.mailDelivery };
    if (person.mailDelivery === data.mailDelivery) return { ...result, changed: false };
    await work.tx.update(identities).set({ mailDelivery: data.mailDelivery, updatedAt: work.now }).where(eq(identities.id, person.id));
    work.record({ action: 'identity.mail_delivery_changed', subject: { type: 'identity', id: person.id }, identityId: person.id,
      before: { mailDelivery: person.mailDelivery }, after: { mailDelivery: data.mailDelivery } });
    return { ...result, changed: true };
  });
};
