import type { Command } from 'commander';
import { initTenure } from '../../operations/init-tenure.js';
import { runLifecycleTick } from '../../jobs/lifecycle.js';
import { startWorker } from '../../jobs/worker.js';
import { loadSigningKey } from '../../audit/signing-key.js';
import { writeAuditCheckpoint } from '../../operations/write-checkpoint.js';
import type { Context } from '../../operations/context.js';
import { DEMO_PERSONAS, loadDemo } from '../demo.js';
import type { Store } from '../../store/database.js';
import type { Runtime } from '../runtime.js';
import { startServer, type RunningServer } from '../../http/server.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

const untilSignal = (rt: Runtime) => new Promise<void>((resolve) => {
  rt.handlesSignals = true;
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

const log = (message: string) => process.stderr.write(`${new Date().toISOString()} ${message}\n`);

/**
 * Signs the chain head every `checkpointIntervalMs`. On the embedded default the key is created in
 * the data directory on first use; with a server, checkpoints need a configured key (else a warning).
 */
const checkpointer = (rt: Runtime, ctx: Context) => {
  let last = 0;
  let warned = false;
  return async (force = false) => {
    if (!force && Date.now() - last < rt.config.checkpointIntervalMs) return;
    last = Date.now();
    const key = loadSigningKey({ env: process.env, dataDir: rt.config.dataDir, create: !rt.config.databaseUrl });
    if (!key?.privateKey) {
      if (!warned) log('audit checkpoints disabled: set TENURE_AUDIT_KEY_FILE or TENURE_AUDIT_SIGNING_KEY');
      warned = true;
      return;
    }
    const written = await writeAuditCheckpoint(ctx, key);
    if (written.written) log(`audit checkpoint signed at event ${written.seq}`);
  };
};

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The lifecycle loop with periodic checkpoints, until SIGINT/SIGTERM; then one last checkpoint. */
const runUntilSignal = async (rt: Runtime, banner: (store: Store) => string, serve?: () => Promise<RunningServer>): Promise<void> => {
  const ctx = await rt.system('worker');
  const server = serve ? await serve() : undefined;
  const checkpoint = checkpointer(rt, ctx);
  const worker = startWorker(ctx, {
    intervalMs: rt.config.workerIntervalMs,
    afterTick: () => checkpoint(),
    onTick: (r) => { if (r.grantsExpired + r.grantsActivated + r.requestsExpired + r.engagementsEnded > 0) log(`lifecycle: ${JSON.stringify(r)}`); },
    onError: (e) => log(`lifecycle error: ${message(e)}`),
  });
  log(banner(ctx.store));
  await untilSignal(rt);
  log('stopping: finishing the current pass and closing the database');
  await server?.close();
  await worker.stop();
  await checkpoint(true).catch((e: unknown) => log(`final checkpoint failed: ${message(e)}`));
};

export const setupCommands = (program: Command, rt: Runtime, run: Run): void => {
  program.command('init').description('bootstrap an empty database with its first administrator')
    .requiredOption('--handle <handle>').requiredOption('--name <displayName>').option('--email <email>')
    .action(run(async (o: { handle: string; name: string; email?: string }) => {
      rt.print(await initTenure(await rt.system('system'), { handle: o.handle, displayName: o.name, email: o.email }));
    }));

  program.command('demo').description('load a demo policy, people, vendors, engagements and requests')
    .option('--if-empty', 'only when the database has no identities yet')
    .action(run(async (o: { ifEmpty?: boolean }) => {
      const ctx = await rt.system('system');
      const result = await loadDemo(ctx, { ifEmpty: Boolean(o.ifEmpty) });
      if (result.loaded) await checkpointer(rt, ctx)(true);
      if (rt.output.json) { rt.print({ ...result, personas: DEMO_PERSONAS }); return; }
      process.stdout.write(`${result.message}\n`);
      if (result.loaded) rt.print(DEMO_PERSONAS.map(([handle, role]) => ({ handle, role })));
    }));

  program.command('worker').description('expire grants and requests on time, end engagements; safe to run several')
    .option('--once', 'process what is due now and exit (with --server: one pass on the server, needs worker.run)')
    .action(run(async (o: { once?: boolean }) => {
      if (o.once && rt.server !== undefined) { rt.print(await rt.api().runLifecycle()); return; }
      if (o.once) { rt.print(await runLifecycleTick(await rt.system('worker'))); return; }
      await runUntilSignal(rt, (store) => `worker running every ${rt.config.workerIntervalMs} ms on ${store.location}; Ctrl-C to stop`);
    }));

  program.command('serve').description('run Tenure: the HTTP API, with the lifecycle worker in the same process')
    .option('--port <port>', 'listen on this port (or PORT; default 8080)', Number)
    .action(run(async (o: { port?: number }) => {
      const http = { ...rt.config.http, ...(o.port === undefined ? {} : { port: o.port }) };
      let url = '';
      const serve = async () => {
        const store = await rt.open();
        const server = await startServer({ store, clock: rt.clock, http,
          auditKeys: { source: { env: process.env, dataDir: rt.config.dataDir }, createSigningKey: !rt.config.databaseUrl } }, { log: true });
        url = server.url;
        return server;
      };
      await runUntilSignal(rt, (store) =>
        `tenure serving ${url} (API docs at ${url}/docs) on ${store.backend} database ${store.location}; worker every ${rt.config.workerIntervalMs} ms; Ctrl-C to stop`, serve);
    }));
};
