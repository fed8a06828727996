/**
 * How long an SSH certificate issued for a grant is valid. A certificate cannot be taken back from
 * a server that is offline or has not fetched the latest KRL, so it is short-lived (hours, not the
 * grant's weeks) and never outlives the grant: when the grant ends, its certificates have expired
 * everywhere, revocation or not.
 */
import { TenureError } from './errors.js';

export const DEFAULT_MAX_CERTIFICATE_TTL_MS = 8 * 3_600_000;
/** Servers whose clocks run a little behind still accept a certificate issued a moment ago. */
export const DEFAULT_CERTIFICATE_CLOCK_SKEW_MS = 5 * 60_000;

export interface CertificateWindowInput {
  now: Date;
  grantStartsAt: Date;
  /** null: the grant has no end (birthright access); the TTL alone bounds the certificate. */
  grantEndsAt: Date | null;
  /** What the user asked for; more than the maximum gets the maximum (the answer says which). */
  requestedTtlMs?: number;
  maxTtlMs?: number;
  clockSkewMs?: number;
}

export interface CertificateWindow {
  validAfter: Date;
  validBefore: Date;
}

const invalid = (field: string, message: string): TenureError => new TenureError('input.invalid', `${field}: ${message}`, { field });

const positive = (value: number, field: string): number => {
  if (!Number.isFinite(value) || value <= 0) throw invalid(field, 'must be a positive number of milliseconds');
  return value;
};

/** The certificate format counts whole seconds; the window is rounded inwards, so rounding never adds access. */
const floorToSecond = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
const ceilToSecond = (ms: number): Date => new Date(Math.ceil(ms / 1000) * 1000);

/**
 * validAfter = now − skew, but never before the grant starts; validBefore = now + TTL, but never
 * after the grant ends. Refuses when the grant has not started or has ended.
 */
export const certificateWindow = (input: CertificateWindowInput): CertificateWindow => {
  const maxTtlMs = positive(input.maxTtlMs ?? DEFAULT_MAX_CERTIFICATE_TTL_MS, 'maxTtlMs');
  const ttlMs = Math.min(positive(input.requestedTtlMs ?? maxTtlMs, 'requestedTtlMs'), maxTtlMs);
  const skewMs = input.clockSkewMs ?? DEFAULT_CERTIFICATE_CLOCK_SKEW_MS;
  if (!Number.isFinite(skewMs) || skewMs < 0) throw invalid('clockSkewMs', 'must be zero or a positive number of milliseconds');

  const now = input.now.getTime();
  const startsAt = input.grantStartsAt.getTime();
  const endsAt = input.grantEndsAt?.getTime() ?? Number.POSITIVE_INFINITY;
  if (now < startsAt) {
    throw new TenureError('grant.not_started', `the grant starts at ${input.grantStartsAt.toISOString()}; no certificate before then`, { field: 'grantStartsAt' });
  }
  if (now >= endsAt) throw new TenureError('grant.already_ended', `the grant ended at ${input.grantEndsAt?.toISOString()}; no certificate is issued for it`);

  const validAfter = new Date(Math.max(floorToSecond(now - skewMs).getTime(), ceilToSecond(startsAt).getTime()));
  const validBefore = floorToSecond(Math.min(now + ttlMs, endsAt));
  if (validBefore.getTime() <= validAfter.getTime()) {
    throw new TenureError('grant.already_ended', 'the grant ends within the second; no certificate is issued for it');
  }
  return { validAfter, validBefore };
};
