import type { Command } from 'commander';
import { refuseUnsafeInProduction } from '../../production-guard.js';
import type { DecisionService } from '../../decision/service.js';
import type { Store } from '../../store/database.js';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** The PostgreSQL proxy on `listen`, sharing this process's store and decision point; see docs/sessions.md. */
export const startPgProxy = async (rt: Runtime, store: Store, decision: DecisionService, listen: string) => {
  const [{ loadPgProxyConfig, parseListen }, { PgProxyServer }, { log }] = await Promise.all([
    import('../../proxy/postgres/config.js'), import('../../proxy/postgres/server.js'), import('../service-log.js')]);
  const { host, port } = parseListen(listen);
  const proxy = await PgProxyServer.start({
    ctx: { store, clock: rt.clock, actor: { id: undefined, channel: 'system' } }, decision, config: loadPgProxyConfig(process.env),
    host, port, onError: (e) => log.error(`postgres proxy: ${e.message}`),
  });
  const at = proxy.address();
  log.info(`postgres proxy listening on ${at.host}:${at.port}`);
  return proxy;
};

/** The SSH proxy on `listen`, sharing this process's store and decision point; see docs/sessions.md. */
export const startSshProxy = async (rt: Runtime, store: Store, decision: DecisionService, listen: string) => {
  const [{ parseListen }, { loadSshProxyConfig }, { SshProxyServer }, { log }] = await Promise.all([
    import('../../proxy/postgres/config.js'), import('../../proxy/ssh/config.js'), import('../../proxy/ssh/server.js'), import('../service-log.js')]);
  const { host, port } = parseListen(listen);
  const proxy = await SshProxyServer.start({
    ctx: { store, clock: rt.clock, actor: { id: undefined, channel: 'system' } }, decision, config: loadSshProxyConfig(process.env),
    host, port, onError: (e) => log.error(`ssh proxy: ${e.message}`),
  });
  const at = proxy.address();
  log.info(`ssh proxy listening on ${at.host}:${at.port}`);
  return proxy;
};

/** Runs one proxy on its own until a signal, with the same database and a decision point of its own. */
const runAlone = async (rt: Runtime, start: (store: Store, decision: DecisionService) => Promise<{ stop(): Promise<void> }>) => {
  const { startDecisionService } = await import('../service-loop.js');
  const store = (await rt.system('system')).store;
  const decision = await startDecisionService(rt, store);
  const server = await start(store, decision);
  rt.handlesSignals = true;
  await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
  await server.stop();
  await decision.stop();
};

export const proxyCommands = (program: Command, rt: Runtime, run: Run): void => {
  const proxy = program.command('proxy').description('mediate and record privileged sessions (docs/sessions.md)');
  proxy.command('postgres').description('the PostgreSQL proxy: people sign in as themselves, sessions are recorded and end with the grant')
    .option('--listen <host:port>', 'where to listen (or TENURE_PG_PROXY_LISTEN)', process.env.TENURE_PG_PROXY_LISTEN ?? '127.0.0.1:6432')
    .action(run(async (o: { listen: string }) => {
      refuseUnsafeInProduction({ ...process.env, TENURE_PG_PROXY_LISTEN: o.listen });
      await runAlone(rt, (store, decision) => startPgProxy(rt, store, decision, o.listen));
    }));
  proxy.command('ssh').description('the SSH proxy: people sign in with the key Tenure certified for their grant, as account@host; sessions are recorded and end with the grant')
    .option('--listen <host:port>', 'where to listen (or TENURE_SSH_PROXY_LISTEN)', process.env.TENURE_SSH_PROXY_LISTEN ?? '127.0.0.1:2222')
    .action(run(async (o: { listen: string }) => {
      await runAlone(rt, (store, decision) => startSshProxy(rt, store, decision, o.listen));
    }));
};
