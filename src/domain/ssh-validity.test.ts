import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TenureError } from './errors.js';
import { certificateWindow, type CertificateWindowInput } from './ssh-validity.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const now = new Date('2030-01-01T09:00:00Z');
const at = (iso: string) => new Date(iso);
const refused = (code: string, field?: string) => (e: unknown) =>
  e instanceof TenureError && e.code === code && (field === undefined || e.field === field);

const grant = { now, grantStartsAt: at('2030-01-01T00:00:00Z'), grantEndsAt: at('2030-01-31T00:00:00Z') };

describe('the validity window of an SSH certificate', () => {
  const windows: { story: string; input: CertificateWindowInput; validAfter: string; validBefore: string }[] = [
    {
      story: 'a grant with weeks left gets a certificate for eight hours, backdated five minutes for slow clocks',
      input: grant, validAfter: '2030-01-01T08:55:00Z', validBefore: '2030-01-01T17:00:00Z',
    },
    {
      story: 'a grant ending in two hours gets a certificate that ends with it',
      input: { ...grant, grantEndsAt: at('2030-01-01T11:00:00Z') }, validAfter: '2030-01-01T08:55:00Z', validBefore: '2030-01-01T11:00:00Z',
    },
    {
      story: 'a user asking for one hour gets one hour',
      input: { ...grant, requestedTtlMs: HOUR }, validAfter: '2030-01-01T08:55:00Z', validBefore: '2030-01-01T10:00:00Z',
    },
    {
      story: 'a user asking for a day gets the maximum, not a refusal',
      input: { ...grant, requestedTtlMs: 24 * HOUR }, validAfter: '2030-01-01T08:55:00Z', validBefore: '2030-01-01T17:00:00Z',
    },
    {
      story: 'a stricter maximum wins over the default',
      input: { ...grant, maxTtlMs: 2 * HOUR }, validAfter: '2030-01-01T08:55:00Z', validBefore: '2030-01-01T11:00:00Z',
    },
    {
      story: 'a grant that began a minute ago is never backdated to before it began',
      input: { ...grant, grantStartsAt: at('2030-01-01T08:59:00Z') }, validAfter: '2030-01-01T08:59:00Z', validBefore: '2030-01-01T17:00:00Z',
    },
    {
      story: 'a grant without an end is bounded by the maximum alone',
      input: { ...grant, grantEndsAt: null }, validAfter: '2030-01-01T08:55:00Z', validBefore: '2030-01-01T17:00:00Z',
    },
    {
      story: 'with no allowance for skew the certificate starts now',
      input: { ...grant, clockSkewMs: 0 }, validAfter: '2030-01-01T09:00:00Z', validBefore: '2030-01-01T17:00:00Z',
    },
    {
      story: 'fractions of a second are rounded inwards: the end down, the grant start up',
      input: {
        ...grant, now: at('2030-01-01T09:00:00.900Z'),
        grantStartsAt: at('2030-01-01T08:58:00.400Z'), grantEndsAt: at('2030-01-01T10:00:00.700Z'),
      },
      validAfter: '2030-01-01T08:58:01Z', validBefore: '2030-01-01T10:00:00Z',
    },
  ];
  for (const { story, input, validAfter, validBefore } of windows) {
    it(story, () => {
      assert.deepEqual(certificateWindow(input), { validAfter: at(validAfter), validBefore: at(validBefore) });
    });
  }

  it('a grant that has not started yet gets no certificate', () => {
    assert.throws(() => certificateWindow({ ...grant, grantStartsAt: at('2030-01-01T09:30:00Z') }), refused('grant.not_started', 'grantStartsAt'));
  });
  it('a grant that has ended gets no certificate, not even at the very moment it ends', () => {
    assert.throws(() => certificateWindow({ ...grant, grantEndsAt: at('2030-01-01T08:00:00Z') }), refused('grant.already_ended'));
    assert.throws(() => certificateWindow({ ...grant, grantEndsAt: now }), refused('grant.already_ended'));
  });
  it('a grant ending within the same second gets no certificate rather than an empty one', () => {
    const input = { ...grant, now: at('2030-01-01T09:00:00.200Z'), grantStartsAt: at('2030-01-01T09:00:00.100Z'), grantEndsAt: at('2030-01-01T09:00:00.800Z') };
    assert.throws(() => certificateWindow(input), refused('grant.already_ended'));
  });
  it('a zero, negative or endless duration is refused as input, whichever setting carries it', () => {
    assert.throws(() => certificateWindow({ ...grant, requestedTtlMs: 0 }), refused('input.invalid', 'requestedTtlMs'));
    assert.throws(() => certificateWindow({ ...grant, maxTtlMs: -MINUTE }), refused('input.invalid', 'maxTtlMs'));
    assert.throws(() => certificateWindow({ ...grant, maxTtlMs: Number.POSITIVE_INFINITY }), refused('input.invalid', 'maxTtlMs'));
    assert.throws(() => certificateWindow({ ...grant, clockSkewMs: -1 }), refused('input.invalid', 'clockSkewMs'));
  });
});
