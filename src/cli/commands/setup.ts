import type { Command } from 'commander';
import { initTenure } from '../../operations/init-tenure.js';
import { runLifecycleTick } from '../../jobs/lifecycle.js';
import { startWorker } from '../../jobs/worker.js';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

const untilSignal = (rt: Runtime) => new Promise<void>((resolve) => {
  rt.handlesSignals = true;
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

const log = (message: string) => process.stderr.write(`${new Date().toISOString()} ${message}\n`);

export const setupCommands = (program: Command, rt: Runtime, run: Run): void => {
  program.command('init').description('bootstrap an empty database with its first administrator')
    .requiredOption('--handle <handle>').requiredOption('--name <displayName>').option('--email <email>')
    .action(run(async (o: { handle: string; name: string; email?: string }) => {
      rt.print(await initTenure(await rt.system('system'), { handle: o.handle, displayName: o.name, email: o.email }));
    }));

  program.command('worker').description('expire grants and requests on time, end engagements; safe to run several')
    .option('--once', 'process what is due now and exit')
    .action(run(async (o: { once?: boolean }) => {
      const ctx = await rt.system('worker');
      if (o.once) { rt.print(await runLifecycleTick(ctx)); return; }
      const worker = startWorker(ctx, { intervalMs: rt.config.workerIntervalMs, onTick: (r) => {
        if (r.grantsExpired + r.grantsActivated + r.requestsExpired + r.engagementsEnded > 0) log(`worker: ${JSON.stringify(r)}`);
      }, onError: (e) => log(`worker error: ${e instanceof Error ? e.message : String(e)}`) });
      log(`worker running every ${rt.config.workerIntervalMs} ms on ${(await rt.open()).location}; Ctrl-C to stop`);
      await untilSignal(rt);
      await worker.stop();
    }));

  program.command('serve').description('run Tenure: the lifecycle worker in this process (the HTTP API arrives with the service issue)')
    .action(run(async () => {
      const ctx = await rt.system('worker');
      const store = await rt.open();
      const worker = startWorker(ctx, { intervalMs: rt.config.workerIntervalMs, onTick: (r) => {
        if (r.grantsExpired + r.grantsActivated + r.requestsExpired + r.engagementsEnded > 0) log(`lifecycle: ${JSON.stringify(r)}`);
      }, onError: (e) => log(`lifecycle error: ${e instanceof Error ? e.message : String(e)}`) });
      log(`tenure serving on ${store.backend} database ${store.location}; worker every ${rt.config.workerIntervalMs} ms; Ctrl-C to stop`);
      await untilSignal(rt);
      log('stopping: finishing the current pass and closing the database');
      await worker.stop();
    }));
};
