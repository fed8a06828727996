import { loadConnectionSettings } from '../../src/store/connection-settings.js';
import { openPostgres, type Store } from '../../src/store/database.js';
import { createScratchDatabase, postgresAdminUrl } from './postgres-server.js';
import { startService, type Service } from './service.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

export interface ServiceBehindProxy { proxy: TcpProxy; store: Store; service: Service }

/**
 * An HTTP service on a scratch database of the PostgreSQL server reached through a TCP proxy the
 * test can break (see tcp-proxy.ts), with short database timeouts so a fault shows in seconds.
 * Everything is closed and dropped after `body`, whatever it did.
 */
export const withServiceBehindProxy = async (settings: NodeJS.ProcessEnv, body: (s: ServiceBehindProxy) => Promise<void>): Promise<void> => {
  const scratch = await createScratchDatabase();
  const target = new URL(await postgresAdminUrl());
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const store = await openPostgres(proxy.via(scratch.url), { connection: loadConnectionSettings(settings) });
  const service = await startService(store);
  try {
    await body({ proxy, store, service });
  } finally {
    await service.app.close();
    await store.close();
    await proxy.close();
    await scratch.drop();
  }
};
