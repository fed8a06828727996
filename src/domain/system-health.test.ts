import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summariseRevocationLag } from './revocation-lag.js';
import { connectorHealth, type HealthInput } from './system-health.js';

const now = new Date('2030-01-10T12:00:00Z');
const HOUR = 3_600_000;
const base: HealthInput = { connector: 'postgres-roles', reconcilable: true, reconcileEveryMs: HOUR, jobs: {}, retrying: 0, overdueTasks: 0,
  lastRun: { finishedAt: new Date(now.getTime() - HOUR), brakeHeld: false }, now };

describe('a connector\'s health', () => {
  const CASES: { story: string; input: Partial<HealthInput>; health: string }[] = [
    { story: 'reconciled within its interval with nothing pending is ok', input: {}, health: 'ok' },
    { story: 'revocations held by the brake come first, even when jobs also fail', input: { jobs: { held: 2, failing: 1 } }, health: 'held' },
    { story: 'a last reconciliation that tripped the brake is held', input: { lastRun: { finishedAt: now, brakeHeld: true } }, health: 'held' },
    { story: 'a job past its attempts is failing', input: { jobs: { failing: 1 } }, health: 'failing' },
    { story: 'a job that failed and will be tried again is retrying', input: { retrying: 1 }, health: 'retrying' },
    { story: 'open drift findings say the target and the grants disagree', input: { openDrift: 2 }, health: 'drift' },
    { story: 'retried jobs come before drift, which they may be about to fix', input: { openDrift: 2, retrying: 1 }, health: 'retrying' },
    { story: 'an unsafe connector comes before everything, even held revocations', input: { unsafe: true, jobs: { held: 1 } }, health: 'unsafe' },
    { story: 'a manual system with an overdue task says so', input: { connector: null, reconcilable: false, lastRun: null, overdueTasks: 1 }, health: 'tasks_overdue' },
    { story: 'a manual system on time is manual', input: { connector: null, reconcilable: false, lastRun: null }, health: 'manual' },
    { story: 'a connector never reconciled says so', input: { lastRun: null }, health: 'not_reconciled' },
    { story: 'one missed interval is a late pass, not yet overdue', input: { lastRun: { finishedAt: new Date(now.getTime() - 2 * HOUR), brakeHeld: false } }, health: 'ok' },
    { story: 'two missed intervals are overdue', input: { lastRun: { finishedAt: new Date(now.getTime() - 3 * HOUR), brakeHeld: false } }, health: 'reconciliation_overdue' },
    { story: 'a certificate authority keeps no accounts, so it is never overdue', input: { connector: 'ssh-ca', reconcilable: false, lastRun: null }, health: 'ok' },
  ];
  for (const c of CASES) it(c.story, () => assert.equal(connectorHealth({ ...base, ...c.input }), c.health));
});

describe('revocation lag', () => {
  const due = (iso: string) => new Date(iso);
  const after = (iso: string, ms: number) => new Date(due(iso).getTime() + ms);
  const removals = [
    { system: 'crm', dueAt: due('2030-01-09T10:00:00Z'), removedAt: after('2030-01-09T10:00:00Z', 2 * HOUR) },
    { system: 'payments', dueAt: due('2030-01-09T11:00:00Z'), removedAt: after('2030-01-09T11:00:00Z', 60_000) },
    { system: 'payments', dueAt: due('2030-01-10T09:00:00Z'), removedAt: after('2030-01-10T09:00:00Z', 180_000) },
    { system: 'lab', dueAt: due('2030-01-08T09:00:00Z'), removedAt: null },
  ];
  const summary = summariseRevocationLag(removals, now, 3);

  it('counts from when access was due to go to when the target confirmed it, with the median and the worst', () => {
    assert.deepEqual([summary.removed, summary.medianMs, summary.maxMs], [3, 180_000, 2 * HOUR]);
  });
  it('a removal still unconfirmed is open, and the oldest is named, so lag cannot hide in what never finished', () => {
    assert.deepEqual([summary.open, summary.oldestOpenDueAt?.toISOString()], [1, '2030-01-08T09:00:00.000Z']);
  });
  it('every day of the window is present, oldest first, with the removals that fell due on it', () => {
    assert.deepEqual(summary.byDay.map((d) => [d.day, d.removed, d.maxMs]),
      [['2030-01-08', 0, null], ['2030-01-09', 2, 2 * HOUR], ['2030-01-10', 1, 180_000]]);
  });
  it('systems with open removals come first, then the slowest', () => {
    assert.deepEqual(summary.bySystem.map((s) => s.system), ['lab', 'crm', 'payments']);
  });
  it('a confirmation stamped before the due time counts as no lag, never a negative one', () => {
    const early = summariseRevocationLag([{ system: 'x', dueAt: now, removedAt: new Date(now.getTime() - 1000) }], now, 1);
    assert.equal(early.maxMs, 0);
  });
});
