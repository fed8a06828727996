import { z } from 'zod';
import { DELIVERY_STATUSES } from '../../domain/webhooks.js';
import { createWebhook, CreateWebhookInput } from '../../operations/create-webhook.js';
import { deleteWebhook } from '../../operations/delete-webhook.js';
import { listWebhookDeliveries } from '../../operations/list-webhook-deliveries.js';
import { listWebhooks } from '../../operations/list-webhooks.js';
import { rekeyWebhooks, RekeyWebhooksInput } from '../../operations/rekey-webhooks.js';
import { RotateWebhookSecretOptions, rotateWebhookSecret } from '../../operations/rotate-webhook-secret.js';
import { LEGACY_KEY, MALFORMED } from '../../webhooks/crypto.js';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/events.js';
import { contextOf } from '../access.js';
import { idParam, isoDate, limitQuery, optionalDate, problems } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const Events = z.array(z.enum(WEBHOOK_EVENT_TYPES));
const Counts = z.object({ pending: z.number().int(), delivered: z.number().int(), failed: z.number().int() });
const WebhookView = z.object({
  id: z.string(), url: z.string(), events: Events, createdBy: z.string().nullable(), createdAt: isoDate, disabledAt: optionalDate,
  key: z.string().describe(`the id of the webhook key the secret is encrypted under (${LEGACY_KEY}: stored before key ids, ${MALFORMED}: in no known format); never key material`),
  deliveries: Counts,
});
const Created = z.object({
  id: z.string(), url: z.string(), events: Events, createdAt: isoDate,
  secret: z.string().nullable().describe('the signing secret (whsec_...): shown once, never again; store it now (null on an Idempotency-Key replay)'),
  secretShownOnce: z.boolean().optional().describe('true on an Idempotency-Key replay: the secret was in the first answer only'),
});
const Deleted = z.object({ id: z.string(), url: z.string(), events: Events, disabledAt: isoDate, cancelledDeliveries: z.number().int() });
const Attempt = z.object({
  attempt: z.number().int(), startedAt: isoDate, finishedAt: optionalDate, statusCode: z.number().int().nullable(), error: z.string().nullable(),
});
const DeliveryView = z.object({
  id: z.string(), subscriptionId: z.string(), eventKey: z.string(), eventType: z.string(), status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int(), nextAttemptAt: optionalDate, lastError: z.string().nullable(), deliveredAt: optionalDate, createdAt: isoDate,
  payload: z.unknown().describe('the body POSTed to the receiver'), log: z.array(Attempt),
});
const RekeyReport = z.object({
  check: z.boolean().describe('true: a dry run, nothing was changed'),
  currentKey: z.string().describe('the id of the key new values are encrypted under (ids are derived from keys; never key material)'),
  keys: z.array(z.string()).describe('the ids of every key in the ring'),
  before: z.record(z.string(), z.number().int()).describe(`subscriptions by the key id their secret was under before this run (${LEGACY_KEY}: stored before key ids, ${MALFORMED}: in no known format)`),
  rekeyed: z.number().int(), alreadyCurrent: z.number().int(),
  failed: z.array(z.object({ id: z.string(), error: z.string() })).describe('subscriptions left unchanged: they do not decrypt with the ring'),
});
const Rotated = z.object({
  id: z.string(), url: z.string(), rotatedAt: isoDate,
  overlapEndsAt: optionalDate.describe('until when deliveries are also signed with the old secret (null: not at all)'),
  secret: z.string().nullable().describe('the new signing secret (whsec_...): shown once, never again (null on an Idempotency-Key replay)'),
  secretShownOnce: z.boolean().optional().describe('true on an Idempotency-Key replay: the secret was in the first answer only'),
});
const ListQuery = z.object({ includeDeleted: z.enum(['true', 'false']).optional() }).strict();
const DeliveriesQuery = z.object({
  subscription: z.uuid('must be a webhook subscription id').optional(), status: z.enum(DELIVERY_STATUSES).optional(),
  limit: limitQuery(1000),
}).strict();

const access = (scope: 'read' | 'write') => ({ access: { scope, permission: 'webhook.manage' as const } });

/** Webhook subscriptions and their delivery log; see docs/webhooks.md for what receivers get. */
export const webhookRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  const keyOf = deps.webhookKey ?? (() => undefined);
  r.get('/v1/webhooks', {
    config: access('read'),
    schema: { tags: ['webhooks'], summary: 'Webhook subscriptions with delivery counts (never their secrets)', querystring: ListQuery,
      response: { 200: z.object({ items: z.array(WebhookView) }), ...problems } },
  }, async (request) => ({ items: await listWebhooks(ctx(request), { includeDeleted: request.query.includeDeleted === 'true' }) }));
  r.post('/v1/webhooks', {
    config: { ...access('write'), shownOnce: ['secret'] },
    schema: { tags: ['webhooks'], summary: 'Subscribe a URL to event types; the signing secret is in this answer only', body: CreateWebhookInput,
      response: { 201: Created, ...problems } },
  }, async (request, reply) => reply.code(201).header('cache-control', 'no-store').send(await createWebhook(ctx(request), request.body, keyOf())));
  r.delete('/v1/webhooks/:webhook', {
    config: access('write'),
    schema: { tags: ['webhooks'], summary: 'Delete (disable) a subscription; its waiting deliveries are marked failed',
      params: idParam('webhook', 'webhook subscription id'), response: { 200: Deleted, ...problems } },
  }, async (request) => deleteWebhook(ctx(request), { webhook: request.params.webhook }));
  r.post('/v1/webhooks/:webhook/rotate-secret', {
    config: { ...access('write'), shownOnce: ['secret'] },
    schema: { tags: ['webhooks'], summary: 'A new signing secret, in this answer only; the old one signs beside it for the overlap',
      params: idParam('webhook', 'webhook subscription id'), body: RotateWebhookSecretOptions, response: { 200: Rotated, ...problems } },
  }, async (request, reply) => reply.header('cache-control', 'no-store')
    .send(await rotateWebhookSecret(ctx(request), request.params.webhook, request.body, keyOf())));
  r.post('/v1/webhooks/rekey', {
    config: { access: { scope: 'write', permission: 'webhook.rekey' } },
    schema: { tags: ['webhooks'], summary: 'Re-encrypt every subscription secret and URL under the current key of the webhook key ring (check: a dry run)',
      body: RekeyWebhooksInput, response: { 200: RekeyReport, ...problems } },
  }, async (request) => rekeyWebhooks(ctx(request), request.body, keyOf()));
  r.get('/v1/webhooks/deliveries', {
    config: access('read'),
    schema: { tags: ['webhooks'], summary: 'The delivery log, newest first, with every attempt', querystring: DeliveriesQuery,
      response: { 200: z.object({ items: z.array(DeliveryView) }), ...problems } },
  }, async (request) => ({ items: await listWebhookDeliveries(ctx(request), request.query) }));
};
