import type { Command } from 'commander';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../domain/webhook-events.js';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;
const say = (line: string) => process.stderr.write(`${line}\n`);
const list = (value: string) => value.split(',').map((item) => item.trim()).filter(Boolean);

export const webhookCommands = (program: Command, rt: Runtime, run: Run): void => {
  const webhook = program.command('webhook').description('signed HTTP notifications of requests, approvals and grants (docs/webhooks.md)');
  webhook.command('create').description('subscribe a URL; prints the signing secret once')
    .requiredOption('--url <url>', 'https URL (plain http only to localhost)')
    .requiredOption('--events <types>', `comma-separated: ${WEBHOOK_EVENT_TYPES.join(', ')}`)
    .action(run(async (o: { url: string; events: string }) => {
      const created = await rt.api().createWebhook({ url: o.url, events: list(o.events) as WebhookEventType[] });
      rt.print(created);
      // The note goes to stderr so that --json output on stdout stays one parseable document.
      say('store the secret now: Tenure keeps it encrypted and never shows it again');
    }));
  webhook.command('list').description('subscriptions and their delivery counts')
    .option('--all', 'include deleted subscriptions')
    .action(run(async (o: { all?: boolean }) => {
      const rows = await rt.api().listWebhooks({ includeDeleted: Boolean(o.all) });
      rt.print(rt.output.json ? rows : rows.map((r) => ({
        id: r.id, url: r.url, events: r.events, key: r.key, createdBy: r.createdBy, createdAt: r.createdAt, disabledAt: r.disabledAt,
        pending: r.deliveries.pending, delivered: r.deliveries.delivered, failed: r.deliveries.failed,
      })));
    }));
  webhook.command('delete <id>').description('stop a subscription; its waiting deliveries are marked failed')
    .action(run(async (id: string) => rt.print(await rt.api().deleteWebhook(id))));
  webhook.command('rotate-secret <id>').description('a new signing secret, printed once; the old one also signs for the overlap (docs/webhooks.md)')
    .option('--overlap <duration>', 'how long deliveries carry a signature with the old secret too (default 1d, at most 7d)')
    .option('--immediately', 'the old secret leaked: stop signing with it now')
    .action(run(async (id: string, o: { overlap?: string; immediately?: boolean }) => {
      const rotated = await rt.api().rotateWebhookSecret(id, { overlap: o.overlap, immediately: Boolean(o.immediately) });
      rt.print(rotated);
      say(rotated.overlapEndsAt
        ? `store the new secret now; deliveries are signed with both until ${new Date(rotated.overlapEndsAt).toISOString()}`
        : 'store the new secret now; the old one no longer signs anything');
    }));
  webhook.command('rekey').description('re-encrypt every secret and URL under the current webhook key (key rotation, docs/operations.md); exit 1 if one does not decrypt')
    .option('--check', 'report which key each subscription is under; change nothing')
    .action(run(async (o: { check?: boolean }) => {
      const report = await rt.api().rekeyWebhooks({ check: Boolean(o.check) });
      rt.print(rt.output.json ? report : {
        check: report.check, currentKey: report.currentKey, keys: report.keys.join(', '),
        before: Object.entries(report.before).map(([kid, n]) => `${kid}: ${n}`).join(', ') || 'no subscriptions',
        rekeyed: report.rekeyed, alreadyCurrent: report.alreadyCurrent, failed: report.failed.length,
      });
      for (const f of report.failed) say(`subscription ${f.id} left unchanged: ${f.error}`);
      // Not an error (every row that could move did), but a script removing the old key must notice.
      if (report.failed.length > 0) process.exitCode = 1;
    }));
  webhook.command('deliveries').description('the delivery log, newest first')
    .option('--subscription <id>').option('--status <status>', 'pending | delivered | failed')
    .option('--limit <n>', 'at most this many', Number)
    .action(run(async (o: { subscription?: string; status?: string; limit?: number }) => {
      const rows = await rt.api().listWebhookDeliveries({
        subscription: o.subscription, status: o.status as 'pending', ...(o.limit ? { limit: o.limit } : {}),
      });
      rt.print(rt.output.json ? rows : rows.map((d) => ({
        id: d.id.slice(0, 8), event: d.eventKey, status: d.status, attempts: d.attempts,
        last: d.log.at(-1)?.statusCode ?? d.log.at(-1)?.error ?? '', next: d.nextAttemptAt, deliveredAt: d.deliveredAt, error: d.lastError,
      })));
    }));
};
