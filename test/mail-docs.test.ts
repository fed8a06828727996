import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MAIL_RULES } from '../src/domain/mail.js';

const doc = readFileSync(new URL('../docs/notifications.md', import.meta.url), 'utf8');
const table = doc.split('### Who gets what')[1]!.split('###')[0]!;

describe('docs/notifications.md', () => {
  it('its table of who gets what names every mailed event with its page, and nothing else', () => {
    const rows = table.split('\n').filter((line) => line.startsWith('| `'));
    const named = rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([a-z_.]+)`/g)].map((m) => m[1]!));
    assert.deepEqual(named.sort(), Object.keys(MAIL_RULES).sort());
    for (const [type, rule] of Object.entries(MAIL_RULES)) {
      const row = rows.find((r) => r.split('|')[1]!.includes(`\`${type}\``))!;
      assert.ok(row.includes(`#/${rule!.page === 'people' ? 'engagements' : rule!.page}`), `${type} links to ${rule!.page}`);
      assert.equal(/\*\*yes\*\*/.test(row), rule!.urgent, `${type} urgency`);
    }
  });
});
