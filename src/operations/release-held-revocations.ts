import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { grants, systems } from '../store/schema.js';
import { provisioningJobs } from '../store/schema-provisioning.js';
import { authorize, requirePerson } from './authorize.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { parseInput, ref, text } from './input.js';
import { resolveFindingByKey } from './lib/provisioning/findings.js';
import { partiesOfIdentities, refuseParties } from './lib/approval/parties.js';

export const Input = z.object({ system: ref, reason: text(2000) }).strict();

/**
 * The held revocations record who caused them: each held job's grant says who ended it. None of
 * them (nor who created or owns them) is the one to let the revocations go.
 */
const refuseOwnBrake = async (work: Work, systemId: string) => {
  const enders = await work.tx.selectDistinct({ endedBy: grants.endedBy }).from(provisioningJobs)
    .innerJoin(grants, eq(grants.id, provisioningJobs.grantId))
    .where(and(eq(provisioningJobs.systemId, systemId), eq(provisioningJobs.state, 'held')));
  refuseParties(work, await partiesOfIdentities(work.tx, enders.map((e) => e.endedBy)), 'provisioning.own_brake_forbidden',
    'you ended access that the brake is holding (or created or own who did): someone else releases it');
};

/**
 * Security confirms the revocations the brake held on a system: they go ahead at the next pass and
 * are not held again. The system row is locked so that a concurrent pass holding new revocations
 * either finishes first (and they are released too) or waits and sees the brake released.
 */
export const releaseHeldRevocations = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await authorize(work, 'provisioning.release_brake');
    requirePerson(acting, 'release held revocations');
    const [system] = await work.tx.select().from(systems).where(eq(systems.key, data.system)).for('update');
    if (!system) throw new TenureError('system.not_found', `no system '${data.system}'`, { field: 'system' });
    await refuseOwnBrake(work, system.id);
    const released = await work.tx.update(provisioningJobs).set({ state: 'queued', brakeReleased: true })
      .where(and(eq(provisioningJobs.systemId, system.id), eq(provisioningJobs.state, 'held'))).returning({ id: provisioningJobs.id });
    if (released.length === 0) throw new TenureError('provisioning.nothing_held', `no revocations are held on ${system.key}`, { field: 'system' });
    await resolveFindingByKey(work, `mass_revocation_held:${system.id}`, `released by ${acting.identity.handle}: ${data.reason}`);
    work.record({ action: 'provisioning.released', subject: { type: 'system', id: system.id }, systemId: system.id, reason: data.reason,
      data: { released: released.length } });
    return { system: system.key, released: released.length };
  });
};
