/**
 * Runs one claimed job: calls the connector (or opens a manual task), then records the outcome in a
 * transaction (a success in the pass's group commit, see record-success.ts). The connector call is
 * idempotent, so a worker killed between the call and the commit leaves a job whose lease lapses,
 * and the retry finds the target already right (`changed: false`): the revocation is neither lost
 * nor repeated with a side effect.
 */
import type { Connector, ConnectorGrant } from '../../connectors/contract.js';
import { DEFAULT_MANUAL_DUE, retryDelayMs, type ProvisioningSettings } from '../../domain/provisioning.js';
import { inTransaction, type Context } from '../../work/context.js';
import { openFinding } from '../../operations/lib/provisioning/findings.js';
import { failpoint } from '../failpoints.js';
import { observeRevocation } from '../../metrics/process.js';
import type { ClaimedJob } from './claim.js';
import { loadGrantContext, type GrantContext } from '../../operations/lib/provisioning/grant-context.js';
import { finishJob, setGrantState } from './job-state.js';
import type { JobLeases } from './lease.js';
import { SuccessRecorder, type Outcome } from './record-success.js';

export type JobResult = 'done' | 'superseded' | 'failed' | 'task_opened' | 'lost_lease';

/**
 * After a removal the target is read back: the job succeeds only when the access is really gone.
 * A connector whose access listAccess cannot show (SSH certificates) answers through `holds`.
 */
const stillHolds = async (connector: Connector, grant: ConnectorGrant): Promise<boolean> =>
  connector.holds ? connector.holds(grant)
    : (await connector.listAccess()).some((entry) => entry.identityHandle === grant.identityHandle && entry.entitlement === grant.targetName);

const callConnector = async (connector: Connector, job: ClaimedJob, grant: ConnectorGrant): Promise<Outcome> => {
  if (job.action === 'provision') return { ...(await connector.provision(grant)), readBack: null };
  const outcome = await connector.deprovision(grant);
  if (await stillHolds(connector, grant)) {
    throw new Error(`read-after-revoke: ${grant.targetName} is still held by ${grant.identityHandle} in the target after removal`);
  }
  // A connector that hands out passwords clears the account's at the last removal (see Connector.setPassword).
  return { ...outcome, readBack: 'absent' as const, passwordCleared: grant.lastOnSystem && connector.setPassword !== undefined, lastOnSystem: grant.lastOnSystem };
};

const recordFailure = (ctx: Context, job: ClaimedJob, jc: GrantContext, settings: ProvisioningSettings, error: unknown) =>
  inTransaction(ctx, async (work) => {
    const message = error instanceof Error ? error.message : String(error);
    const failing = job.attempts >= settings.maxAttempts;
    const next = new Date(work.now.getTime() + retryDelayMs(job.attempts));
    if (!(await finishJob(work, job, { state: failing ? 'failing' : 'queued', nextAttemptAt: next, lastError: message }))) return 'lost_lease' as const;
    if (!failing) return 'failed' as const;
    await setGrantState(work, job, 'failed', { jobId: job.id, attempt: job.attempts, error: message, at: work.now });
    const { opened } = await openFinding(work, {
      kind: 'provisioning_failed', key: `provisioning_failed:${job.grant_id}`, systemId: job.system_id, identityId: job.identity_id,
      grantId: job.grant_id, jobId: job.id, ownerId: jc.technicalOwnerId,
      summary: `${job.action} of ${jc.identityHandle} on ${jc.systemKey} failed ${job.attempts} times: ${message}`,
      evidence: { jobId: job.id, action: job.action, attempts: job.attempts, lastError: message, nextAttemptAt: next },
    });
    if (opened) {
      work.record({ action: 'provisioning.failed', subject: { type: 'grant', id: job.grant_id }, identityId: job.identity_id,
        systemId: job.system_id, data: { jobId: job.id, action: job.action, attempts: job.attempts, error: message } });
    }
    return 'failed' as const;
  });

/** A system without a connector: the job becomes a task for its technical owner, done when they confirm it. */
const openManualTask = (ctx: Context, job: ClaimedJob, jc: GrantContext, settings: ProvisioningSettings) =>
  inTransaction(ctx, async (work) => {
    const spec = settings.systems[jc.systemKey]?.connector;
    const due = spec?.type === 'manual'
      ? (job.action === 'provision' ? spec.provision_due_ms : spec.removal_due_ms)
      : (job.action === 'provision' ? DEFAULT_MANUAL_DUE.provisionMs : DEFAULT_MANUAL_DUE.removalMs);
    const dueAt = new Date(work.now.getTime() + due);
    if (!(await finishJob(work, job, { state: 'awaiting_confirmation', dueAt }))) return 'lost_lease' as const;
    work.record({ action: 'provisioning.task_opened', subject: { type: 'provisioning_job', id: job.id }, identityId: job.identity_id,
      systemId: job.system_id, data: { grantId: job.grant_id, action: job.action, ownerId: jc.technicalOwnerId, dueAt } });
    return 'task_opened' as const;
  });

const supersede = (ctx: Context, job: ClaimedJob) => inTransaction(ctx, async (work) =>
  ((await finishJob(work, job, { state: 'superseded', finishedAt: work.now })) ? 'superseded' as const : 'lost_lease' as const));

/** Runs one job this worker claimed; `leases` keeps its lease renewed and says whether it is still ours before the target is touched. */
export const runJob = async (
  ctx: Context, job: ClaimedJob, settings: ProvisioningSettings, connectorOf: (systemKey: string) => Connector | null, leases: JobLeases,
  recorder = new SuccessRecorder(ctx),
): Promise<JobResult> => {
  const jc = await loadGrantContext(ctx.store.db, job.grant_id);
  const live = jc.grantStatus === 'active';
  if ((job.action === 'provision') !== live) return supersede(ctx, job);
  const connector = connectorOf(jc.systemKey);
  if (!connector) return openManualTask(ctx, job, jc, settings);
  const target = settings.systems[jc.systemKey]?.targets;
  if (!(await leases.confirm(job))) return 'lost_lease';
  let outcome;
  try {
    const grant = jc.connectorGrant('');
    const targetName = target?.[grant.entitlementKey];
    if (!targetName) throw new Error(`${grant.entitlementKey} has no target name in the policy`);
    outcome = await callConnector(connector, job, { ...grant, targetName });
  } catch (error) {
    return recordFailure(ctx, job, jc, settings, error);
  }
  failpoint('provisioning.after_connector_call');
  const result = await recorder.record(job, jc, outcome);
  failpoint('provisioning.after_job_committed');
  if (result === 'done' && job.action === 'deprovision' && jc.removalDueAt) observeRevocation(jc.systemKey, jc.removalDueAt, ctx.clock.now());
  return result;
};
