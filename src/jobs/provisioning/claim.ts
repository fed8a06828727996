/**
 * Taking provisioning jobs: retiring jobs overtaken by events, holding mass revocations behind the
 * brake, and claiming a batch with a lease. Each step commits on its own, before any connector is
 * called, so no transaction stays open across a call to a target system.
 */
import { sql } from 'drizzle-orm';
import { brakeTrips, type ProvisioningSettings } from '../../domain/provisioning.js';
import type { Work } from '../../work/context.js';
import { openFinding } from '../../operations/lib/provisioning/findings.js';
import { rawRows } from '../../store/database.js';

/** Job states that still have work in them; a later job of the same grant waits behind these. */
const UNFINISHED = sql`('queued','failing','running','held','awaiting_confirmation')`;

/**
 * A provision job whose grant has ended since it was queued (or a deprovision whose grant is live
 * again) has nothing left to do: superseded, so the deprovision behind it never waits on a
 * provision that keeps failing against a broken target.
 */
export const supersedeOvertakenJobs = async (work: Work): Promise<number> => {
  const now = work.now.toISOString();
  const rows = await rawRows<{ id: string }>(work.tx, sql`
    UPDATE provisioning_jobs j SET state = 'superseded', finished_at = ${now}, lease_until = NULL
      FROM grants g
     WHERE g.id = j.grant_id AND j.state IN ('queued','failing','held','awaiting_confirmation')
       AND ((j.action = 'provision' AND g.status <> 'active') OR (j.action = 'deprovision' AND g.status = 'active'))
    RETURNING j.id`);
  return rows.length;
};

interface BrakeCandidate { system_id: string; system_key: string; revocations: number; held_access: number; already_held: number }

/**
 * The brake: when the fresh revocations queued for one system exceed the configured share of the
 * access Tenure holds there, they are all held and a finding asks security to confirm. While a
 * system has held revocations, new ones join them rather than slipping past one at a time.
 */
export const applyBrake = async (work: Work, settings: ProvisioningSettings): Promise<number> => {
  // Manual systems are left out: their removals are tasks for a person, who is the check.
  const braked = Object.entries(settings.systems).filter(([, system]) => system.connector.type !== 'manual').map(([key]) => key);
  if (braked.length === 0) return 0;
  const candidates = await rawRows<BrakeCandidate>(work.tx, sql`
    SELECT s.id AS system_id, s.key AS system_key,
           (SELECT count(*) FROM provisioning_jobs j WHERE j.system_id = s.id AND j.action = 'deprovision'
               AND j.state = 'queued' AND j.attempts = 0 AND NOT j.brake_released)::int AS revocations,
           (SELECT count(*) FROM grants g JOIN entitlements e ON e.id = g.entitlement_id WHERE e.system_id = s.id
               AND (g.provisioning_state = 'provisioned' OR (g.status IN ('expired','revoked') AND g.provisioning_state IN ('pending','failed'))))::int AS held_access,
           (SELECT count(*) FROM provisioning_jobs j WHERE j.system_id = s.id AND j.state = 'held')::int AS already_held
      FROM systems s WHERE s.key IN (${sql.join(braked.map((k) => sql`${k}`), sql`, `)})`);
  let held = 0;
  for (const c of candidates) {
    if (c.revocations === 0) continue;
    if (c.already_held === 0 && !brakeTrips(c.revocations, c.held_access, settings.brake)) continue;
    const jobs = await rawRows<{ id: string }>(work.tx, sql`
      UPDATE provisioning_jobs SET state = 'held' WHERE system_id = ${c.system_id} AND action = 'deprovision'
         AND state = 'queued' AND attempts = 0 AND NOT brake_released RETURNING id`);
    held += jobs.length;
    const total = c.already_held + jobs.length;
    const evidence = { system: c.system_key, heldRevocations: total, accessHeldInTarget: c.held_access,
      share: settings.brake.share, minimum: settings.brake.minimum };
    await openFinding(work, { kind: 'mass_revocation_held', key: `mass_revocation_held:${c.system_id}`, systemId: c.system_id, evidence,
      summary: `${total} revocations on ${c.system_key} exceed ${Math.round(settings.brake.share * 100)}% of its ${c.held_access} grants in the target: held until security confirms` });
    work.record({ action: 'provisioning.held', subject: { type: 'system', id: c.system_id }, systemId: c.system_id, data: evidence });
  }
  return held;
};

export interface ClaimedJob {
  id: string; seq: string; grant_id: string; identity_id: string; system_id: string; action: 'provision' | 'deprovision'; attempts: number;
}

/**
 * Claims due jobs with a lease: queued or failing jobs whose retry time has come, and running jobs
 * whose worker let the lease lapse (it died). A job waits while an earlier job of its grant is
 * unfinished (order matters: provision, then deprovision) or while another job of the same person
 * on the same system is running (the connector computes the account's state from all of them).
 */
export const claimJobs = async (work: Work, limit: number, leaseMs: number): Promise<ClaimedJob[]> => {
  const now = work.now.toISOString();
  const lease = new Date(work.now.getTime() + leaseMs).toISOString();
  const jobs = await rawRows<ClaimedJob>(work.tx, sql`
    WITH candidates AS (
      SELECT j.id FROM provisioning_jobs j
       WHERE ((j.state IN ('queued','failing') AND j.next_attempt_at <= ${now}) OR (j.state = 'running' AND j.lease_until < ${now}))
         AND NOT EXISTS (SELECT 1 FROM provisioning_jobs e WHERE e.grant_id = j.grant_id AND e.seq < j.seq AND e.state IN ${UNFINISHED})
         AND NOT EXISTS (SELECT 1 FROM provisioning_jobs r WHERE r.system_id = j.system_id AND r.identity_id = j.identity_id
                           AND r.id <> j.id AND r.state = 'running' AND r.lease_until >= ${now})
       ORDER BY j.seq LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    UPDATE provisioning_jobs j SET state = 'running', lease_until = ${lease}, attempts = j.attempts + 1
      FROM candidates c WHERE j.id = c.id
    RETURNING j.id, j.seq::text AS seq, j.grant_id, j.identity_id, j.system_id, j.action, j.attempts`);
  return jobs.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
};
