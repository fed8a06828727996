import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { MAX_ACCEPTANCE_MS } from '../domain/findings.js';
import { isUuid } from '../domain/ids.js';
import { findings } from '../store/schema-provisioning.js';
import { authorize, requirePerson } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { refuseOwnFinding } from './lib/approval/parties.js';
import { instant, parseInput, text } from './input.js';

export const Input = z.object({
  finding: z.string().min(1, 'must be a finding id'),
  reason: text(2000),
  until: instant.describe('when the exception ends and the finding is open again (at most 180 days ahead)'),
}).strict();

/**
 * Security accepts the risk a finding describes, as an exception with an end: the finding stays
 * visible as `accepted`, reconciliation seeing the same drift refreshes it without reopening it,
 * and when the exception ends the finding is open again. Never without an end, never by a machine.
 */
export const acceptFinding = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    requirePerson(await authorize(work, 'finding.accept'), 'accept a finding as an exception');
    const missing = () => new TenureError('finding.not_found', `no finding '${data.finding}'`, { field: 'finding' });
    if (!isUuid(data.finding)) throw missing();
    const span = data.until.getTime() - work.now.getTime();
    if (span <= 0 || span > MAX_ACCEPTANCE_MS) {
      throw new TenureError('finding.acceptance_too_long', 'until: must be in the future and at most 180 days ahead', { field: 'until' });
    }
    const [finding] = await work.tx.select().from(findings).where(eq(findings.id, data.finding)).for('update');
    if (!finding) throw missing();
    await refuseOwnFinding(work, finding, 'accept');
    if (finding.status === 'resolved') throw new TenureError('finding.already_resolved', 'the finding is already resolved', { field: 'finding' });
    await work.tx.update(findings).set({ status: 'accepted', acceptedUntil: data.until }).where(eq(findings.id, finding.id));
    work.record({ action: 'finding.accepted', subject: { type: 'finding', id: finding.id }, identityId: finding.identityId,
      systemId: finding.systemId, before: { status: finding.status }, after: { status: 'accepted', acceptedUntil: data.until, kind: finding.kind },
      reason: data.reason });
    return { id: finding.id, status: 'accepted' as const, acceptedUntil: data.until };
  });
};
