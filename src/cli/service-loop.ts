import { anchorFrom } from '../audit/anchor.js';
import { sessionDatabaseUrl } from '../config.js';
import { loadSigningKey } from '../audit/signing-key.js';
import { DecisionService, loadDecisionConfig } from '../decision/service.js';
import { TenureError } from '../domain/errors.js';
import { checkConnectors } from '../jobs/connector-check.js';
import { runHousekeeping } from '../jobs/housekeeping.js';
import { loadMetricsConfig, type MetricsConfig } from '../metrics/config.js';
import { startMetricsServer, type MetricsServer } from '../metrics/server.js';
import { runDutiesStep, runMailStep, runSiemStreamStep, runWebhookStep, type DutiesResult, type PassOptions } from '../jobs/pass.js';
import { mailSettingsFromEnv } from '../mail/index.js';
import { loadSiemTargets } from '../siem/config.js';
import type { StreamResult } from '../siem/stream.js';
import { productVersion } from '../siem/version.js';
import { startLoop, type WorkerHandle } from '../jobs/worker.js';
import { startDueLoop } from './due-loop.js';
import type { Context } from '../work/context.js';
import { writeAuditCheckpoint } from '../operations/write-checkpoint.js';
import type { Store } from '../store/database.js';
import { webhookTickOptions } from '../webhooks/index.js';
import type { Runtime } from './runtime.js';
import { log } from './service-log.js';
import { refuseUnsafeInProduction } from '../production-guard.js';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

const untilSignal = (rt: Runtime) => new Promise<void>((resolve) => {
  rt.handlesSignals = true;
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

/**
 * With a server database, checkpoints are what stops its owner from cutting the log's tail unnoticed,
 * so serve and worker refuse to start without a key unless the operator turned them off on purpose,
 * and then say so loudly at every start. On the embedded default the key is created on first use.
 */
export const requireCheckpointKey = (rt: Runtime): void => {
  if (!rt.config.databaseUrl) return;
  if (rt.config.auditCheckpoints === 'off') {
    log.warn('audit checkpoints are OFF (TENURE_AUDIT_CHECKPOINTS=off): nothing outside the database vouches for the audit log,'
      + ' and whoever owns the database can cut its tail unnoticed. Set TENURE_AUDIT_KEY_FILE or TENURE_AUDIT_SIGNING_KEY.');
    return;
  }
  const key = loadSigningKey({ env: process.env, dataDir: rt.config.dataDir, create: false });
  if (!key?.privateKey) {
    throw new TenureError('audit.checkpoints_required', 'no audit signing key: set TENURE_AUDIT_KEY_FILE or TENURE_AUDIT_SIGNING_KEY'
      + ' (a private Ed25519 key, see docs/audit.md), or TENURE_AUDIT_CHECKPOINTS=off to run without checkpoints on purpose');
  }
};

/**
 * Signs the chain head when it has moved (the caller runs this every `checkpointIntervalMs`) and
 * anchors it outside the database. requireCheckpointKey has already refused a server without a key.
 */
export const checkpointer = (rt: Runtime, ctx: Context) => {
  const source = { env: process.env, dataDir: rt.config.dataDir };
  return async () => {
    if (rt.config.auditCheckpoints === 'off' && rt.config.databaseUrl) return;
    const key = loadSigningKey({ ...source, create: !rt.config.databaseUrl });
    // Only a one-off command (tenure demo) gets here without a key on a server: it signs nothing, and the next serve or worker refuses to start.
    if (!key?.privateKey) return;
    const written = await writeAuditCheckpoint(ctx, key, anchorFrom(source));
    if (written.witnessProblem) log.warn(`audit checkpoint at event ${written.seq} not witnessed: ${written.witnessProblem}`);
  };
};

/**
 * The settings of a pass in this process. Read again for every pass: a webhook key created after
 * start-up is picked up, and the worker only reads the key, never creates it.
 */
export const passOptions = (rt: Runtime): PassOptions => ({
  provisioningLeaseMs: rt.config.provisioningLeaseMs,
  webhooks: webhookTickOptions({ env: process.env, dataDir: rt.config.dataDir }),
  siem: loadSiemTargets(process.env, productVersion()),
  mail: { settings: mailSettingsFromEnv({ env: process.env, dataDir: rt.config.dataDir, publicUrl: rt.config.http.publicUrl }) },
});

/** Read once at start, so a malformed SIEM setting stops the start naming its variable; logs addresses only, never the token. */
const checkSiemSettings = (): void => {
  for (const target of loadSiemTargets(process.env, productVersion())) log.info(`audit log streamed to ${target.name} ${target.where} (starting at the ${target.start === 'now' ? 'head' : 'beginning'} on first use)`);
};

/** One line per target that sent or failed; an idle stream logs nothing. */
const logSiem = (results: StreamResult[]): void => {
  for (const r of results) {
    if (r.error) log.error(`SIEM ${r.target}: ${r.error} (${r.sent} events sent before; the rest waits for the next pass)`);
    else if (r.sent > 0) log.info(`SIEM ${r.target}`, { sent: r.sent });
  }
};

/** One log line for each duty that did something; a quiet pass logs nothing. */
const logDuties = (r: DutiesResult): void => {
  const { hr, provisioning, reviews, reconciliation } = r;
  if (hr.due + hr.endDates + hr.ownership.resolved + hr.ownership.suspended > 0) log.info('hr', { ...hr });
  if (Object.values(provisioning).some((n) => n > 0)) log.info('provisioning', { ...provisioning });
  if (r.findingsReopened > 0) log.info('findings open again after their accepted exception ended', { findings: r.findingsReopened });
  if (r.credentialFindings.opened + r.credentialFindings.closed > 0) log.info('credentials', { ...r.credentialFindings });
  if (r.sodFindings.opened + r.sodFindings.closed > 0) log.info('separation of duties', { ...r.sodFindings });
  if (r.breakGlassEscalated > 0) log.warn('break-glass reviews overdue, escalated to security', { reviews: r.breakGlassEscalated });
  if (r.approvalsEscalated > 0) log.info('approval stages waited too long, opened to their alternates', { stages: r.approvalsEscalated });
  if (reviews.closed.closed > 0) log.info('review campaigns closed at their due date', { ...reviews.closed });
  for (const opened of reviews.scheduled.opened) log.info(`review campaign ${opened.key} opened`, { items: opened.items });
  for (const failed of reviews.scheduled.errors) log.error(`review campaign ${failed.key} could not open: ${failed.error}`);
  for (const run of reconciliation.reconciled) log.info(`reconciled ${run.system}`, { ...run.drift });
  for (const failed of reconciliation.errors) log.error(`reconciliation of ${failed.system} failed: ${failed.error}`);
  if (r.recordingsPurged > 0) log.info('session recordings past their retention deleted', { sessions: r.recordingsPurged });
};

/** One line per connector that is unreachable or unsafe at start; the unsafe ones are findings too (jobs/connector-check.ts). */
const reportConnectors = async (ctx: Context): Promise<void> => {
  try {
    for (const c of await checkConnectors(ctx)) {
      if (c.unsafe.length > 0) log.error(`UNSAFE connector of ${c.system}: ${c.unsafe.join('; ')}`);
      else if (!c.ok) log.error(`connector of ${c.system} cannot work: ${c.detail}`);
    }
  } catch (e) {
    log.error(`connector check failed: ${message(e)}`);
  }
};

/**
 * Read once at start, so a bad webhook key ring (a key that does not parse, the same key twice) or
 * notice window is refused by name before anything runs, rather than failing every pass. The passes
 * read it again each time (a key file created or changed later is picked up). Logs key ids only.
 */
const checkWebhookSettings = (rt: Runtime): void => {
  const ring = webhookTickOptions({ env: process.env, dataDir: rt.config.dataDir }).key;
  const older = ring ? [...ring.keys.keys()].filter((kid) => kid !== ring.current.kid) : [];
  if (ring) log.info(`webhook key ring: current ${ring.current.kid}${older.length ? `, also decrypting ${older.join(', ')} (tenure webhook rekey)` : ''}`);
};

/** Refuses a malformed TENURE_SMTP_URL or TENURE_MAIL_FROM by name at start, and says where mail goes. */
const checkMailSettings = (rt: Runtime): void => {
  const { transport } = passOptions(rt).mail!.settings!;
  log.info(transport ? `mail goes to ${transport.describe}` : 'mail is off: set TENURE_SMTP_URL to send it (docs/notifications.md)');
};

/** What `serve` adds to the worker: the decision index (kept fresh after each pass too) and the HTTP server. */
export interface Served { decision: DecisionService; close(): Promise<void> }

/**
 * The background duties of `serve` and `worker` until SIGINT/SIGTERM: the steps of a pass
 * (jobs/pass.ts), each on its own timer (a slow receiver or target must not delay expiries), the
 * lifecycle's woken at each due moment and followed by the removals it caused (cli/due-loop.ts),
 * checkpoints every few seconds and housekeeping; then everything stops in order and one last
 * checkpoint is signed.
 */
export const runUntilSignal = async (rt: Runtime, banner: (store: Store) => string, serve?: (store: Store) => Promise<Served>): Promise<void> => {
  refuseUnsafeInProduction(process.env);
  requireCheckpointKey(rt);
  checkWebhookSettings(rt);
  checkSiemSettings();
  checkMailSettings(rt);
  const metricsConfig = loadMetricsConfig(process.env);
  const ctx = await rt.system('worker');
  const served = serve ? await serve(ctx.store) : undefined;
  const metrics = metricsConfig ? await startMetrics(rt, ctx.store, metricsConfig, served) : undefined;
  const checkpoint = checkpointer(rt, ctx);
  const loops: WorkerHandle[] = [
    await startDueLoop(rt, ctx, {
      afterPass: async () => { await served?.decision.sync(); },
      onPass: (r, p) => {
        if (r.grantsExpired + r.grantsActivated + r.requestsExpired + r.engagementsEnded + r.vendorsEnded + r.checkOutsGiven > 0) log.info('lifecycle', { ...r });
        if (p.done + p.failed + p.held + p.tasksOpened > 0) log.info('provisioning', { ...p });
      },
      onError: (e) => log.error(`lifecycle error: ${message(e)}`),
    }),
    startLoop(rt.config.workerIntervalMs, async () => {
      const r = await runWebhookStep(ctx, passOptions(rt));
      if (r.dispatched + r.delivered + r.failed + r.notices > 0) log.info('webhooks', { ...r });
    }, (e) => log.error(`webhook error: ${message(e)}`)),
    // Its own loop: a SIEM that is down or slow must delay neither webhooks nor duties.
    startLoop(rt.config.workerIntervalMs, async () => { logSiem(await runSiemStreamStep(ctx, passOptions(rt))); },
      (e) => log.error(`SIEM stream error: ${message(e)}`)),
    // Its own loop: an SMTP server that hangs must not hold up webhooks. Subjects and addresses are never logged.
    startLoop(rt.config.workerIntervalMs, async () => {
      const r = await runMailStep(ctx, passOptions(rt));
      if (r.written + r.sent + r.failed > 0) log.info('mail', { ...r });
    }, (e) => log.error(`mail error: ${message(e)}`)),
    // Its own loop: a slow or unreachable target must delay neither expiries nor other systems' removals for long.
    startLoop(rt.config.workerIntervalMs, async () => { logDuties(await runDutiesStep(ctx, passOptions(rt))); },
      (e) => log.error(`worker duties error: ${message(e)}`)),
    startLoop(10 * 60_000, async () => { await runHousekeeping(ctx); }, (e) => log.error(`housekeeping error: ${message(e)}`)),
    // Its own short loop: events no checkpoint covers are the part of the log its database's owner
    // could cut unnoticed, so that window is kept to seconds whatever the other passes take.
    startLoop(rt.config.checkpointIntervalMs, checkpoint, (e) => log.error(`audit checkpoint failed: ${message(e)}`)),
  ];
  log.info(banner(ctx.store));
  // After the banner: a slow target must not hold up the start; awaited before the database closes.
  const connectorsChecked = reportConnectors(ctx);
  await untilSignal(rt);
  await connectorsChecked;
  log.info('stopping: finishing the current pass and closing the database');
  await served?.close();
  await metrics?.close();
  for (const loop of loops) await loop.stop();
  await served?.decision.stop();
  await checkpoint().catch((e: unknown) => log.error(`final checkpoint failed: ${message(e)}`));
};

/** Metrics on their own listener (docs/metrics.md): the service's gauges, and this process's counters and decision index. */
const startMetrics = async (rt: Runtime, store: Store, config: MetricsConfig, served: Served | undefined): Promise<MetricsServer> => {
  const decision = served?.decision;
  const server = await startMetricsServer(config, { store, clock: rt.clock, decision: decision ? () => decision.status() : undefined });
  log.info(`metrics at ${server.url}${config.token ? ' (bearer token required)' : ''}`);
  return server;
};

/** The decision point of this process, refreshed from the change feed; see docs/decision-point.md. */
export const startDecisionService = (rt: Runtime, store: Store): Promise<DecisionService> =>
  DecisionService.start({ store, clock: rt.clock, databaseUrl: sessionDatabaseUrl(rt.config), connection: rt.connectionSettings, ...loadDecisionConfig(process.env),
    onError: (e) => log.error(`decision index refresh failed: ${e.message}`) });
