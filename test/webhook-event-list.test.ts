import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AUDIT_EVENT_TYPES } from '../src/audit/event-types.js';
import { SOURCE_ACTIONS } from '../src/webhooks/events.js';
import { WEBHOOK_EVENT_TYPES } from '../src/domain/webhook-events.js';
import { withWebhookEventList } from '../src/domain/webhook-events-doc.js';

describe('the webhook event list', () => {
  it('docs/webhooks.md lists exactly the event types of the list (run npm run docs:webhooks to refresh it)', () => {
    const doc = readFileSync(new URL('../docs/webhooks.md', import.meta.url), 'utf8');
    assert.equal(doc, withWebhookEventList(doc));
    for (const type of WEBHOOK_EVENT_TYPES) assert.ok(doc.includes(`| \`${type}\` |`), type);
  });

  it('every event type comes from at least one audit action, and every source is a real audit action', () => {
    const produced = new Set(Object.values(SOURCE_ACTIONS).flat());
    assert.deepEqual(WEBHOOK_EVENT_TYPES.filter((type) => !produced.has(type)), []);
    const actions = new Set<string>(AUDIT_EVENT_TYPES);
    assert.deepEqual(Object.keys(SOURCE_ACTIONS).filter((action) => !actions.has(action)), []);
  });

  it('has the complete event set of issue 21', () => {
    for (const type of ['request.created', 'request.denied', 'request.cancelled', 'request.expired', 'review.campaign_opened', 'review.item_assigned',
      'review.item_decided', 'review.item_defaulted', 'finding.resolved', 'credential.rotated', 'credential.retired']) {
      assert.ok((WEBHOOK_EVENT_TYPES as readonly string[]).includes(type), type);
    }
  });
});
