/**
 * Tells the index that another process committed a change. Every commit that appends audit events
 * moves the audit head, and a trigger on it sends NOTIFY tenure_changes (migration 0003). One
 * dedicated connection LISTENs; a lost connection is re-opened after a pause, and each (re)connect
 * also triggers a sync, since notifications sent while it was down are lost. Polling (service.ts)
 * stays on underneath: the feed only makes changes arrive sooner.
 */
import pg from 'pg';

export const CHANGE_CHANNEL = 'tenure_changes';

export interface ChangeFeed {
  /** True while the LISTEN connection is up. */
  listening(): boolean;
  stop(): Promise<void>;
}

export interface ChangeFeedOptions {
  url: string;
  onChange: () => void;
  onError?: (error: Error) => void;
  reconnectMs?: number;
}

/** Opens the LISTEN connection; resolves once the first attempt has connected or failed (it retries either way). */
export const listenForChanges = async (options: ChangeFeedOptions): Promise<ChangeFeed> => {
  const reconnectMs = options.reconnectMs ?? 1000;
  let client: pg.Client | undefined;
  let up = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const scheduleReconnect = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => { retry = undefined; void connect(); }, reconnectMs);
    retry.unref();
  };

  const connect = async (): Promise<void> => {
    const current = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 5000 });
    client = current;
    const lost = (error?: Error) => {
      if (client !== current) return;
      up = false;
      client = undefined;
      if (error && !stopped) options.onError?.(error);
      void current.end().catch(() => undefined);
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
      const current = client;
      client = undefined;
      up = false;
      await current?.end().catch(() => undefined);
    },
  };
};
