import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TenureError } from './errors.js';
import { canTransition } from './identity-lifecycle.js';
import { checkMaxDuration, resolveWindow } from './window.js';

const now = new Date('2030-01-01T09:00:00Z');
const at = (iso: string) => new Date(iso);
const refused = (code: string) => (e: unknown) => e instanceof TenureError && e.code === code;

describe('access windows', () => {
  it('a window without a start begins now and ends after its duration', () => {
    assert.deepEqual(resolveWindow({ durationMs: 120_000 }, now), { startsAt: now, endsAt: at('2030-01-01T09:02:00Z') });
  });
  it('a start in the past is moved to now, so no grant is backdated', () => {
    assert.equal(resolveWindow({ startsAt: at('2029-12-31T00:00:00Z'), endsAt: at('2030-01-02T00:00:00Z') }, now).startsAt.getTime(), now.getTime());
  });
  it('a window with neither an end nor a duration is refused: nothing is open-ended', () => {
    assert.throws(() => resolveWindow({}, now), refused('request.invalid_window'));
  });
  it('a window with both an end and a duration is refused as ambiguous', () => {
    assert.throws(() => resolveWindow({ endsAt: at('2030-01-02T00:00:00Z'), durationMs: 1000 }, now), refused('request.invalid_window'));
  });
  it('an end before the start is refused', () => {
    assert.throws(() => resolveWindow({ startsAt: at('2030-01-03T00:00:00Z'), endsAt: at('2030-01-02T00:00:00Z') }, now), refused('request.invalid_window'));
  });
  it('the maximum is measured from when access begins', () => {
    const window = { startsAt: at('2030-01-02T00:00:00Z'), endsAt: at('2030-01-02T08:00:00Z') };
    checkMaxDuration(window, now, 8 * 3_600_000, 'privileged');
    assert.throws(() => checkMaxDuration(window, now, 8 * 3_600_000 - 1, 'privileged'), refused('request.exceeds_max_duration'));
  });
});

describe('identity status', () => {
  it('terminated is final', () => {
    assert.equal(canTransition('terminated', 'active'), false);
    assert.equal(canTransition('suspended', 'active'), true);
    assert.equal(canTransition('pending', 'suspended'), false);
  });
});
