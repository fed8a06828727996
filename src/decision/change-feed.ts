/**
 * Tells the index that another process committed a change. Every commit that appends audit events
 * moves the audit head, and a trigger on it sends NOTIFY tenure_changes (migration 0003). One
 * dedicated connection LISTENs; a lost connection is re-opened after a pause, and each (re)connect
 * also triggers a sync, since notifications sent while it was down are lost. Polling (service.ts)
 * stays on underneath: the feed only makes changes arrive sooner.
 *
 * A LISTEN connection only ever receives, so a flow silently lost in a failover would look like a
 * quiet database forever: a heartbeat (SELECT 1) proves it alive, and one unanswered in time
 * replaces the connection. A loss also triggers a sync, which fails (and so fails the index closed)
 * when the database is gone for everyone, and succeeds when only this connection was.
 */
import pg from 'pg';
import { clientOptions, type ConnectionSettings } from '../store/connection-settings.js';

export const CHANGE_CHANNEL = 'tenure_changes';

export interface ChangeFeed {
  /** True while the LISTEN connection is up. */
  listening(): boolean;
  stop(): Promise<void>;
}

export interface ChangeFeedOptions {
  url: string;
  /** Timeouts, keepalive, heartbeat and the application name (the connection adds `-listen`). */
  connection: ConnectionSettings;
  /** A notification arrived, or some may have been missed (connected again, or lost). */
  onChange: () => void;
  onError?: (error: Error) => void;
  reconnectMs?: number;
}

/** Opens the LISTEN connection; resolves once the first attempt has connected or failed (it retries either way). */
export const listenForChanges = async (options: ChangeFeedOptions): Promise<ChangeFeed> => {
  const reconnectMs = options.reconnectMs ?? 1000;
  const { heartbeatMs } = options.connection;
  let client: pg.Client | undefined;
  let up = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;

  const scheduleReconnect = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => { retry = undefined; void connect(); }, reconnectMs);
    retry.unref();
  };

  const connect = async (): Promise<void> => {
    const settings = { ...options.connection, applicationName: `${options.connection.applicationName}-listen` };
    const current = new pg.Client({ connectionString: options.url, ...clientOptions(settings) });
    client = current;
    let beating = false;
    const lost = (error?: Error) => {
      if (client !== current) return;
      up = false;
      client = undefined;
      clearInterval(heartbeat);
      if (error && !stopped) options.onError?.(error);
      // end() destroys the socket when a query is outstanding: a dead flow must not keep it open.
      void current.end().catch(() => undefined);
      if (!stopped) options.onChange();
      scheduleReconnect();
    };
    current.on('error', lost);
    current.on('end', () => lost());
    current.on('notification', (message) => { if (message.channel === CHANGE_CHANNEL) options.onChange(); });
    try {
      await current.connect();
      await current.query(`LISTEN ${CHANGE_CHANNEL}`);
      if (stopped) { await current.end(); return; }
      up = true;
      clearInterval(heartbeat);
      heartbeat = setInterval(() => {
        if (beating) return;
        beating = true;
        // pg honours query_timeout per query; its type definitions do not list it.
        current.query({ text: 'SELECT 1', query_timeout: heartbeatMs } as pg.QueryConfig).then(
          () => { beating = false; },
          (error: unknown) => { lost(new Error(`the LISTEN connection did not answer its heartbeat: ${(error as Error).message}`)); },
        );
      }, heartbeatMs);
      heartbeat.unref();
      options.onChange();
    } catch (error) {
      lost(error as Error);
    }
  };

  await connect();
  return {
    listening: () => up,
    stop: async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      clearInterval(heartbeat);
      const current = client;
      client = undefined;
      up = false;
      await current?.end().catch(() => undefined);
    },
  };
};
