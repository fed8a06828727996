import { join } from 'node:path';
import type { Command } from 'commander';
import { loadHttpConfig } from '../../config.js';
import { sessionTtlFrom } from '../../auth/oidc-config.js';
import type { Store } from '../../store/database.js';
import type { Runtime } from '../runtime.js';
import { loadLogSettings } from '../../http/log-settings.js';
import { renderPass } from '../views/pass.js';
import { servingAddresses } from '../serve-address.js';

// What these commands run (the server, the worker, the demo) is imported when one of them runs:
// loading it is most of a start's time, and every other command, and --help, needs none of it.
const service = () => import('../service-loop.js');
const demoData = () => import('../demo.js');

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

export const setupCommands = (program: Command, rt: Runtime, run: Run): void => {
  const printPass = (summary: object) => {
    if (rt.output.json) rt.print(summary); else process.stdout.write(renderPass(summary as Record<string, unknown>));
  };
  program.command('init').description('bootstrap an empty database with its first administrator')
    .requiredOption('--handle <handle>').requiredOption('--name <displayName>').option('--email <email>')
    .action(run(async (o: { handle: string; name: string; email?: string }) => {
      const { initTenure } = await import('../../operations/init-tenure.js');
      rt.print(await initTenure(await rt.system('system'), { handle: o.handle, displayName: o.name, email: o.email }));
    }));

  program.command('demo').description('load a demo policy, people, vendors, engagements and requests')
    .option('--if-empty', 'only when the database has no identities yet')
    .action(run(async (o: { ifEmpty?: boolean }) => {
      const [{ DEMO_PERSONAS, loadDemo }, { checkpointer }] = await Promise.all([demoData(), service()]);
      const ctx = await rt.system('system');
      const result = await loadDemo(ctx, { ifEmpty: Boolean(o.ifEmpty) });
      if (result.loaded) await checkpointer(rt, ctx)();
      if (rt.output.json) { rt.print({ ...result, personas: DEMO_PERSONAS }); return; }
      process.stdout.write(`${result.message}\n`);
      if (result.loaded) rt.print(DEMO_PERSONAS.map(([handle, role]) => ({ handle, role })));
    }));

  program.command('worker').description('expire grants and requests on time, end engagements; safe to run several')
    .option('--once', 'process what is due now and exit (with --server: one pass on the server, needs worker.run)')
    .action(run(async (o: { once?: boolean }) => {
      if (o.once && rt.server !== undefined) { printPass(await rt.api().runPass()); return; }
      const { passOptions, runUntilSignal } = await service();
      const { runPass } = await import('../../jobs/pass.js');
      if (o.once) { printPass(await runPass(await rt.system('worker'), passOptions(rt))); return; }
      // Before the loop starts, so a mistyped TENURE_LOG_* is refused at once, by name.
      (await import('../service-log.js')).configureServiceLog(loadLogSettings(process.env, { tty: process.stderr.isTTY === true }));
      await runUntilSignal(rt, (store) => `worker running every ${rt.config.workerIntervalMs} ms on ${store.location}; Ctrl-C to stop`);
    }));

  program.command('serve').description('run Tenure: the HTTP API and web console, with the lifecycle worker in the same process')
    .option('--port <port>', 'listen on this port (or PORT; default 8080)', Number)
    .option('--demo', 'embedded database only: load the demo if the database is empty and print one-time sign-in links for its personas')
    .action(run(async (o: { port?: number; demo?: boolean }) => {
      const [{ loadDemo }, { printDemoLinks, refuseDemoOutsideEmbedded }, { checkpointer, passOptions, runUntilSignal, startDecisionService },
        { startServer }, { loadWebhookKeyRing }, { configureServiceLog }] = await Promise.all([demoData(), import('../demo-sign-in.js'), service(),
        import('../../http/server.js'), import('../../webhooks/index.js'), import('../service-log.js')]);
      if (o.demo) refuseDemoOutsideEmbedded(rt.config, process.env);
      // Read before anything starts, so a mistyped TENURE_LOG_* is refused at once, by name.
      const logSettings = loadLogSettings(process.env, { demo: o.demo === true, tty: process.stderr.isTTY === true });
      // The same destination as the request lines (http/log-destination.ts), so the two never split each other's lines.
      configureServiceLog(logSettings, (await import('../../http/log-destination.js')).stderrDestination());
      // Re-read with the port given, so the default public URL (redirects, the cookie's origin check) names it too.
      const http = o.port === undefined ? rt.config.http : loadHttpConfig({ ...process.env, PORT: String(o.port) });
      const demo = o.demo ? { sessionTtlMs: sessionTtlFrom(process.env.TENURE_SESSION_TTL) } : undefined;
      if (o.demo) {
        const ctx = await rt.system('system');
        const result = await loadDemo(ctx, { ifEmpty: true });
        if (result.loaded) {
          await checkpointer(rt, ctx)();
          // Three weeks of history are not news: mail starts with what happens from now (a tick without a transport passes events unmailed).
          await (await import('../../mail/index.js')).runMailTick(ctx, {});
        }
      }
      // In the demo the terminal shows the sign-in links: request logs go to a file beside the database.
      const requestLog = demo ? { file: join(rt.config.dataDir, 'requests.log') } : undefined;
      const log = { ...logSettings, file: requestLog?.file };
      let url = '';
      const serve = async (store: Store) => {
        const decision = await startDecisionService(rt, store);
        const server = await startServer({ store, clock: rt.clock, http, decision, demo, pass: () => passOptions(rt),
          auditKeys: { source: { env: process.env, dataDir: rt.config.dataDir }, createSigningKey: !rt.config.databaseUrl },
          webhookKey: () => loadWebhookKeyRing({ env: process.env, dataDir: rt.config.dataDir, create: !rt.config.databaseUrl }) }, { log });
        url = server.url;
        const listen = process.env.TENURE_PG_PROXY_LISTEN;
        const pgProxy = listen ? await (await import('./proxy.js')).startPgProxy(rt, store, decision, listen) : undefined;
        const sshListen = process.env.TENURE_SSH_PROXY_LISTEN;
        const sshProxy = sshListen ? await (await import('./proxy.js')).startSshProxy(rt, store, decision, sshListen) : undefined;
        // Printed once the server listens, so every link works the moment it is shown.
        if (demo) await printDemoLinks(await rt.system('system'), http.publicUrl, (text) => process.stdout.write(text));
        // So a newcomer sees what Tenure tells people (approvals waiting, access granted): docs/notifications.md.
        const mail = passOptions(rt).mail?.settings?.transport;
        if (demo && mail) process.stdout.write(`Mail to the personas goes to ${mail.describe} (one file a message).\n`);
        return { decision, close: async () => { await pgProxy?.stop(); await sshProxy?.stop(); await server.close(); } };
      };
      await runUntilSignal(rt, (store) => {
        const at = servingAddresses(url, http, process.env);
        return `tenure serving ${at.served} (web console at ${at.console}/, API docs at ${at.served}/docs) on ${store.backend} database ${store.location}; `
          + `worker every ${rt.config.workerIntervalMs} ms;${requestLog ? ` request logs in ${requestLog.file};` : ''} Ctrl-C to stop`;
      }, serve);
    }));
};
