import { sql } from 'drizzle-orm';
import { mailSettingsFromEnv, type MailSettings } from '../../src/mail/index.js';
import { runMailTick, type MailTickOptions } from '../../src/mail/index.js';
import { rawRows, type Store } from '../../src/store/database.js';
import type { SmtpSink } from './smtp-sink.js';
import type { World } from './world.js';

export const PUBLIC_URL = 'https://tenure.example.org';
export const HOSTILE = '<script>alert(1)</script>';

/**
 * Gives everyone of the world an address (handle@example.org) but Carl, who has none (his mail goes
 * to his sponsor Sam), and Sam a display name that would run script if it were not escaped.
 */
export const addressEveryone = async (store: Store): Promise<void> => {
  await store.db.execute(sql`UPDATE identities SET email = handle || '@example.org' WHERE handle <> 'carl'`);
  await store.db.execute(sql`UPDATE identities SET display_name = ${`Sam ${HOSTILE}`} WHERE handle = 'sam'`);
};

export const smtpSettings = (sink: SmtpSink): MailSettings =>
  mailSettingsFromEnv({ env: { TENURE_SMTP_URL: sink.url, TENURE_MAIL_FROM: 'Tenure <tenure@example.org>' }, dataDir: '/nonexistent', publicUrl: PUBLIC_URL });

export const mailTick = (w: World, sink: SmtpSink, options: MailTickOptions = {}) => runMailTick(w.worker, { settings: smtpSettings(sink), ...options });

export interface OutboxRow { address: string | null; kind: string; status: string; attempts: number; digest: boolean; batch_id: string | null; last_error: string | null }

export const outbox = (store: Store) => rawRows<OutboxRow>(store.db, sql`
  SELECT address, kind, status, attempts, digest, batch_id::text, last_error FROM mail_outbox ORDER BY created_at, address, kind`);
