import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration } from './durations.js';
import { countOf } from './plural.js';

const HOUR = 3_600_000;

describe('counts and durations people read', () => {
  it('a count of one takes the singular, any other count the plural', () => {
    assert.equal(countOf(1, 'checkpoint'), '1 checkpoint');
    assert.equal(countOf(0, 'checkpoint'), '0 checkpoints');
    assert.equal(countOf(3, 'thing they answered for', 'things they answered for'), '3 things they answered for');
  });
  it('a long delay reads in days, not thousands of hours', () => {
    assert.equal(formatDuration(6603 * HOUR, 'words'), '275 days');
  });
  it('a short delay keeps its second unit, and a round one drops it', () => {
    assert.equal(formatDuration(30 * HOUR, 'words'), '1 day 6 hours');
    assert.equal(formatDuration(2 * HOUR, 'words'), '2 hours');
    assert.equal(formatDuration(61_000, 'words'), '1 minute 1 second');
    assert.equal(formatDuration(500, 'words'), 'less than a second');
  });
  it('the compact form that policies and flags use is unchanged', () => {
    assert.equal(formatDuration(90 * 60_000), '1h30m');
  });
});
