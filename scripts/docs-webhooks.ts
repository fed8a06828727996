import { readFileSync, writeFileSync } from 'node:fs';
import { withWebhookEventList } from '../src/domain/webhook-events-doc.js';

const path = new URL('../docs/webhooks.md', import.meta.url);
writeFileSync(path, withWebhookEventList(readFileSync(path, 'utf8')));
