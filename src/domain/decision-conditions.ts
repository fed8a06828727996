/**
 * The conditions an entitlement may put on its use, checked by the decision point at every answer.
 * A small closed vocabulary, compiled once when the index loads the policy and evaluated in process:
 * no expression language, no engine on the hot path. Pure: no I/O (BlockList only matches addresses).
 */
import { BlockList, isIP } from 'node:net';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Allowed hours: `from` inclusive, `to` exclusive, local time of `timezone`; `from` after `to` spans midnight. */
export interface HoursSpec { from: string; to: string; timezone?: string | undefined; days?: Weekday[] | undefined }

/** As written in the policy file (snake_case), under `systems.<s>.entitlements.<e>.conditions`. */
export interface ConditionSpec {
  mfa?: true | undefined;
  /** The MFA must be at most this old (ms, as the policy parser outputs `12h`); implies `mfa`. */
  mfa_max_age?: number | undefined;
  trusted_device?: true | undefined;
  ticket?: true | undefined;
  hours?: HoursSpec | undefined;
  source_cidrs?: string[] | undefined;
}

/** What the caller of the decision point says about the attempt. */
export interface DecisionContext {
  mfa?: boolean | undefined;
  /** When that MFA was performed (epoch ms): what `mfa_max_age` measures. Unknown fails any maximum age. */
  mfaAt?: number | undefined;
  trustedDevice?: boolean | undefined;
  ticket?: string | undefined;
  sourceAddress?: string | undefined;
  /** A person was seen at the attempt: an interactive login, a browser session, an MFA prompt answered. */
  interactive?: boolean | undefined;
  /** The fingerprint of the credential presented (never the secret). */
  credential?: string | undefined;
}

export type ConditionReason =
  | 'condition_mfa_required' | 'condition_mfa_too_old' | 'condition_trusted_device_required' | 'condition_ticket_required'
  | 'condition_outside_hours' | 'condition_source_not_allowed';

/** `HH:MM` on a 24-hour clock, as minutes after midnight; `24:00` only where `endOfDay` allows it. */
export const parseClockTime = (text: string, endOfDay = false): number | undefined => {
  const match = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(text);
  if (!match) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  if (minutes > 24 * 60 || (minutes === 24 * 60 && !endOfDay)) return undefined;
  return minutes;
};

export const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

export interface Cidr { address: string; prefix: number; family: 'ipv4' | 'ipv6' }

/** `10.0.0.0/8`, `2001:db8::/32`; a bare address is a /32 (or /128). */
export const parseCidr = (text: string): Cidr | undefined => {
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
};

interface CompiledHours {
  from: number;
  to: number;
  /** Bit n set: weekday n (0 = Sunday) allowed. */
  days: number;
  offsetOf: (at: number) => number;
}

export interface CompiledConditions {
  mfa: boolean;
  /** ms; null: any age. */
  mfaMaxAge: number | null;
  trustedDevice: boolean;
  ticket: boolean;
  hours: CompiledHours | null;
  sources: BlockList | null;
}

const QUARTER_HOUR = 15 * 60_000;

/**
 * The UTC offset of `zone` at an instant, in ms. Every offset and every transition of the time zone
 * database falls on a quarter hour, so one offset per quarter hour is exact; the last one is cached
 * and Intl (microseconds per call) runs about once per quarter hour per condition.
 */
const offsetFunction = (zone: string): ((at: number) => number) => {
  if (zone === 'UTC' || zone === 'Etc/UTC') return () => 0;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
  });
  let bucket = Number.NaN;
  let offset = 0;
  return (at) => {
    const current = Math.floor(at / QUARTER_HOUR);
    if (current === bucket) return offset;
    const start = current * QUARTER_HOUR;
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(start)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
    const local = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!);
    bucket = current;
    offset = local - start;
    return offset;
  };
};

const compileHours = (spec: HoursSpec): CompiledHours => {
  const from = parseClockTime(spec.from);
  const to = parseClockTime(spec.to, true);
  if (from === undefined || to === undefined || from === to) throw new Error(`invalid hours ${spec.from}-${spec.to}`);
  const days = spec.days ? spec.days.reduce((mask, day) => mask | (1 << WEEKDAYS.indexOf(day)), 0) : 0b111_1111;
  return { from, to, days, offsetOf: offsetFunction(spec.timezone ?? 'UTC') };
};

/** Compiles a validated spec; undefined or empty specs compile to null (no condition). */
export const compileConditions = (spec: ConditionSpec | undefined | null): CompiledConditions | null => {
  if (!spec) return null;
  const compiled: CompiledConditions = {
    mfa: spec.mfa === true || spec.mfa_max_age !== undefined, mfaMaxAge: spec.mfa_max_age ?? null, trustedDevice: spec.trusted_device === true, ticket: spec.ticket === true,
    hours: spec.hours ? compileHours(spec.hours) : null, sources: null,
  };
  if (spec.source_cidrs && spec.source_cidrs.length > 0) {
    const list = new BlockList();
    for (const text of spec.source_cidrs) {
      const cidr = parseCidr(text);
      if (!cidr) throw new Error(`invalid CIDR ${text}`);
      list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
    compiled.sources = list;
  }
  const any = compiled.mfa || compiled.trustedDevice || compiled.ticket || compiled.hours !== null || compiled.sources !== null;
  return any ? compiled : null;
};

const DAY_MS = 86_400_000;

const withinHours = (hours: CompiledHours, now: number): boolean => {
  const local = now + hours.offsetOf(now);
  const dayNumber = Math.floor(local / DAY_MS);
  const minute = Math.floor((local - dayNumber * DAY_MS) / 60_000);
  // 1970-01-01 was a Thursday (weekday 4).
  const weekday = (((dayNumber + 4) % 7) + 7) % 7;
  if ((hours.days & (1 << weekday)) === 0) return false;
  return hours.from < hours.to ? minute >= hours.from && minute < hours.to : minute >= hours.from || minute < hours.to;
};

const sourceAllowed = (sources: BlockList, address: string | undefined): boolean => {
  if (!address) return false;
  const version = isIP(address);
  return version !== 0 && sources.check(address, version === 4 ? 'ipv4' : 'ipv6');
};

/**
 * Clocks of the sign-in and of the decision point may differ a little; an MFA time further in the
 * future than this is not one Tenure recorded, and is not believed.
 */
export const MFA_CLOCK_SKEW_MS = 60_000;

const mfaRecentEnough = (maxAge: number, at: number | undefined, now: number): boolean =>
  at !== undefined && Number.isFinite(at) && at <= now + MFA_CLOCK_SKEW_MS && now - at <= maxAge;

/** The first condition the attempt fails, in a fixed order (mfa, its age, device, ticket, hours, source), or undefined. */
export const failedCondition = (
  conditions: CompiledConditions, context: DecisionContext | undefined, now: number,
): ConditionReason | undefined => {
  if (conditions.mfa && context?.mfa !== true) return 'condition_mfa_required';
  if (conditions.mfaMaxAge !== null && !mfaRecentEnough(conditions.mfaMaxAge, context?.mfaAt, now)) return 'condition_mfa_too_old';
  if (conditions.trustedDevice && context?.trustedDevice !== true) return 'condition_trusted_device_required';
  if (conditions.ticket && !context?.ticket?.trim()) return 'condition_ticket_required';
  if (conditions.hours && !withinHours(conditions.hours, now)) return 'condition_outside_hours';
  if (conditions.sources && !sourceAllowed(conditions.sources, context?.sourceAddress)) return 'condition_source_not_allowed';
  return undefined;
};
