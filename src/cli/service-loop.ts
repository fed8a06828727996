import { anchorFrom } from '../audit/anchor.js';
import { loadSigningKey } from '../audit/signing-key.js';
import { DecisionService, loadDecisionConfig } from '../decision/service.js';
import { runHousekeeping } from '../jobs/housekeeping.js';
import { runDutiesStep, runWebhookStep, type DutiesResult, type PassOptions } from '../jobs/pass.js';
import { startLoop, startWorker, type WorkerHandle } from '../jobs/worker.js';
import type { Context } from '../work/context.js';
import { writeAuditCheckpoint } from '../operations/write-checkpoint.js';
import type { Store } from '../store/database.js';
import { webhookTickOptions } from '../webhooks/index.js';
import type { Runtime } from './runtime.js';

export const log = (message: string) => process.stderr.write(`${new Date().toISOString()} ${message}\n`);
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

const untilSignal = (rt: Runtime) => new Promise<void>((resolve) => {
  rt.handlesSignals = true;
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

/**
 * Signs the chain head when it has moved (the caller runs this every `checkpointIntervalMs`) and
 * anchors it outside the database. On the embedded default the key is created in the data directory
 * on first use; with a server, checkpoints need a configured key (else a warning).
 */
export const checkpointer = (rt: Runtime, ctx: Context) => {
  let warned = false;
  const source = { env: process.env, dataDir: rt.config.dataDir };
  return async () => {
    const key = loadSigningKey({ ...source, create: !rt.config.databaseUrl });
    if (!key?.privateKey) {
      if (!warned) log('audit checkpoints disabled: set TENURE_AUDIT_KEY_FILE or TENURE_AUDIT_SIGNING_KEY');
      warned = true;
      return;
    }
    const written = await writeAuditCheckpoint(ctx, key, anchorFrom(source));
    if (written.witnessProblem) log(`audit checkpoint at event ${written.seq} not witnessed: ${written.witnessProblem}`);
  };
};

/**
 * The settings of a pass in this process. Read again for every pass: a webhook key created after
 * start-up is picked up, and the worker only reads the key, never creates it.
 */
export const passOptions = (rt: Runtime): PassOptions => ({
  provisioningLeaseMs: rt.config.provisioningLeaseMs,
  webhooks: webhookTickOptions({ env: process.env, dataDir: rt.config.dataDir }),
});

/** One log line for each duty that did something; a quiet pass logs nothing. */
const logDuties = (r: DutiesResult): void => {
  const { hr, provisioning, reviews, reconciliation } = r;
  if (hr.due + hr.endDates + hr.ownership.resolved + hr.ownership.suspended > 0) log(`hr: ${JSON.stringify(hr)}`);
  if (Object.values(provisioning).some((n) => n > 0)) log(`provisioning: ${JSON.stringify(provisioning)}`);
  if (r.findingsReopened > 0) log(`findings open again after their accepted exception ended: ${r.findingsReopened}`);
  if (r.credentialFindings.opened + r.credentialFindings.closed > 0) log(`credentials: ${JSON.stringify(r.credentialFindings)}`);
  if (r.sodFindings.opened + r.sodFindings.closed > 0) log(`separation of duties: ${JSON.stringify(r.sodFindings)}`);
  if (r.breakGlassEscalated > 0) log(`break-glass reviews overdue, escalated to security: ${r.breakGlassEscalated}`);
  if (reviews.closed.closed > 0) log(`review campaigns closed at their due date: ${JSON.stringify(reviews.closed)}`);
  for (const opened of reviews.scheduled.opened) log(`review campaign ${opened.key} opened: ${opened.items} items`);
  for (const failed of reviews.scheduled.errors) log(`review campaign ${failed.key} could not open: ${failed.error}`);
  for (const run of reconciliation.reconciled) log(`reconciled ${run.system}: ${JSON.stringify(run.drift)}`);
  for (const failed of reconciliation.errors) log(`reconciliation of ${failed.system} failed: ${failed.error}`);
};

/** What `serve` adds to the worker: the decision index (kept fresh after each pass too) and the HTTP server. */
export interface Served { decision: DecisionService; close(): Promise<void> }

/**
 * The background duties of `serve` and `worker` until SIGINT/SIGTERM: the three steps of a pass
 * (jobs/pass.ts), each on its own timer (a slow receiver or target must not delay expiries),
 * checkpoints every few seconds and housekeeping; then everything stops in order and one last
 * checkpoint is signed.
 */
export const runUntilSignal = async (rt: Runtime, banner: (store: Store) => string, serve?: (store: Store) => Promise<Served>): Promise<void> => {
  const ctx = await rt.system('worker');
  const served = serve ? await serve(ctx.store) : undefined;
  const checkpoint = checkpointer(rt, ctx);
  const loops: WorkerHandle[] = [
    startWorker(ctx, {
      intervalMs: rt.config.workerIntervalMs,
      afterTick: async () => { await served?.decision.sync(); },
      onTick: (r) => { if (r.grantsExpired + r.grantsActivated + r.requestsExpired + r.engagementsEnded + r.vendorsEnded > 0) log(`lifecycle: ${JSON.stringify(r)}`); },
      onError: (e) => log(`lifecycle error: ${message(e)}`),
    }),
    startLoop(rt.config.workerIntervalMs, async () => {
      const r = await runWebhookStep(ctx, passOptions(rt));
      if (r.dispatched + r.delivered + r.failed + r.notices > 0) log(`webhooks: ${JSON.stringify(r)}`);
    }, (e) => log(`webhook error: ${message(e)}`)),
    // Its own loop: a slow or unreachable target must delay neither expiries nor other systems' removals for long.
    startLoop(rt.config.workerIntervalMs, async () => { logDuties(await runDutiesStep(ctx, passOptions(rt))); },
      (e) => log(`worker duties error: ${message(e)}`)),
    startLoop(10 * 60_000, async () => { await runHousekeeping(ctx); }, (e) => log(`housekeeping error: ${message(e)}`)),
    // Its own short loop: events no checkpoint covers are the part of the log its database's owner
    // could cut unnoticed, so that window is kept to seconds whatever the other passes take.
    startLoop(rt.config.checkpointIntervalMs, checkpoint, (e) => log(`audit checkpoint failed: ${message(e)}`)),
  ];
  log(banner(ctx.store));
  await untilSignal(rt);
  log('stopping: finishing the current pass and closing the database');
  await served?.close();
  for (const loop of loops) await loop.stop();
  await served?.decision.stop();
  await checkpoint().catch((e: unknown) => log(`final checkpoint failed: ${message(e)}`));
};

/** The decision point of this process, refreshed from the change feed; see docs/decision-point.md. */
export const startDecisionService = (rt: Runtime, store: Store): Promise<DecisionService> =>
  DecisionService.start({ store, clock: rt.clock, databaseUrl: rt.config.databaseUrl, connection: rt.connectionSettings, ...loadDecisionConfig(process.env),
    onError: (e) => log(`decision index refresh failed: ${e.message}`) });
