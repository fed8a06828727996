import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { DRIFT_KINDS } from '../domain/findings.js';
import { TenureError } from '../domain/errors.js';
import { isUuid } from '../domain/ids.js';
import { findings } from '../store/schema-provisioning.js';
import { authorize, requirePerson } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { refuseOwnFinding } from './lib/approval/parties.js';
import { parseInput, text } from './input.js';
import { resolveFindingsWhere } from './lib/provisioning/findings.js';

export const Input = z.object({ finding: z.string().min(1, 'must be a finding id'), resolution: text(2000) }).strict();

/**
 * A person closes a finding with what was done. Drift found by reconciliation may be closed this
 * way too (an accepted exception, say), but the next reconciliation opens it again if the access
 * is still there: closing the finding does not make the drift go away.
 */
export const resolveFinding = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    requirePerson(await authorize(work, 'finding.resolve'), 'resolve a finding');
    const missing = () => new TenureError('finding.not_found', `no finding '${data.finding}'`, { field: 'finding' });
    if (!isUuid(data.finding)) throw missing();
    const [finding] = await work.tx.select().from(findings).where(eq(findings.id, data.finding)).for('update');
    if (!finding) throw missing();
    await refuseOwnFinding(work, finding, 'resolve');
    if (finding.status === 'resolved') throw new TenureError('finding.already_resolved', 'the finding is already resolved', { field: 'finding' });
    await resolveFindingsWhere(work, eq(findings.id, finding.id), data.resolution);
    return { id: finding.id, status: 'resolved' as const, reopensIfSeenAgain: DRIFT_KINDS.includes(finding.kind) };
  });
};
