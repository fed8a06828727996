/**
 * Where mail goes: an SMTP server (TENURE_SMTP_URL, sent with nodemailer), or, on the embedded
 * default without one, a Maildir in the data directory (`<data dir>/mail/new/`, one file a message,
 * readable with `mutt -f` or any mail client) so a newcomer sees what Tenure would have sent.
 * Settings are checked at start; a malformed one is refused by name, its value never echoed (an
 * SMTP URL may carry a password).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { TenureError } from '../domain/errors.js';

export interface OutgoingMail { from: string; to: string; subject: string; text: string; html: string; messageId: string }

export interface MailTransport {
  /** Resolves once the server accepted the message (or the file is in the Maildir); rejects otherwise. */
  send(mail: OutgoingMail): Promise<void>;
  /** Where mail goes, without credentials: for the start-up log line. */
  describe: string;
}

export interface MailSettings {
  transport: MailTransport | undefined;
  from: string;
  publicUrl: string;
}

const invalid = (field: string, rule: string) => new TenureError('input.invalid', `${field}: ${rule}`, { field });

/** smtp:// (STARTTLS when offered) or smtps:// (TLS from the start), with a host; user and password may be in the URL. */
export const parseSmtpUrl = (value: string): URL => {
  let url: URL;
  try { url = new URL(value); } catch { throw invalid('TENURE_SMTP_URL', 'is not a URL (smtp://host:587 or smtps://user:password@host:465)'); }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw invalid('TENURE_SMTP_URL', `must start with smtp:// or smtps:// (is ${url.protocol}//)`);
  if (!url.hostname) throw invalid('TENURE_SMTP_URL', 'names no host');
  return url;
};

const smtpTransports = new Map<string, MailTransport>();

/** One pooled transport per URL and process: a pass reuses the connection of the last one. */
const smtpTransport = (value: string): MailTransport => {
  const url = parseSmtpUrl(value);
  const known = smtpTransports.get(value);
  if (known) return known;
  // Short timeouts: a claim's lock (mail/send.ts) must outlast one whole attempt.
  const mailer = nodemailer.createTransport(value, { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as never);
  const transport: MailTransport = {
    describe: `SMTP ${url.protocol}//${url.hostname}${url.port ? `:${url.port}` : ''}`,
    send: async (mail) => { await mailer.sendMail({ ...mail, messageId: mail.messageId }); },
  };
  smtpTransports.set(value, transport);
  return transport;
};

/** Maildir delivery as the format asks: written under tmp/, then renamed into new/, so a reader never sees half a message. */
export const maildirTransport = (dir: string): MailTransport => {
  const render = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    describe: `the Maildir ${join(dir, 'new')}`,
    send: async (mail) => {
      const info = await render.sendMail(mail) as unknown as { message: Buffer };
      for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(dir, sub), { recursive: true });
      const name = `${Date.now()}.${randomUUID()}.${hostname()}`;
      writeFileSync(join(dir, 'tmp', name), info.message, { mode: 0o600 });
      renameSync(join(dir, 'tmp', name), join(dir, 'new', name));
    },
  };
};

const checkFrom = (from: string): string => {
  if (!/^[^\r\n]*@[^\r\n]+$/.test(from)) throw invalid('TENURE_MAIL_FROM', 'must be an address, optionally with a name: Tenure <tenure@example.org>');
  return from;
};

/**
 * Mail settings from the environment. Without TENURE_SMTP_URL: on the embedded default (no
 * DATABASE_URL) mail goes to the Maildir; with a server database there is no transport and mail is
 * off (events pass unmailed, as webhooks pass with no subscriber).
 */
export const mailSettingsFromEnv = (source: { env: NodeJS.ProcessEnv; dataDir: string; publicUrl: string }): MailSettings => {
  const { env } = source;
  const publicUrl = source.publicUrl.replace(/\/$/, '');
  const from = checkFrom(env.TENURE_MAIL_FROM || `Tenure <tenure@${new URL(publicUrl).hostname}>`);
  const transport = env.TENURE_SMTP_URL ? smtpTransport(env.TENURE_SMTP_URL)
    : env.DATABASE_URL ? undefined : maildirTransport(join(source.dataDir, 'mail'));
  return { transport, from, publicUrl };
};
