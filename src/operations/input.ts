import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { DURATION_RULE, parseDuration } from '../domain/durations.js';
import { isUuid, NOT_UUID_RULE, NOT_UUID_SHAPED } from '../domain/ids.js';

/**
 * What the HTTP layer already validated, with the schema that did it: the use case given that very
 * object and schema need not parse again, and parsing twice is wrong for a transform (a duration
 * becomes milliseconds, which the wire must never accept as a bare number).
 */
const validated = new WeakMap<object, z.ZodType>();
export const markValidated = (value: unknown, schema: z.ZodType): void => {
  if (typeof value === 'object' && value !== null) validated.set(value, schema);
};

/**
 * Validates use-case input; the first problem becomes `input.invalid` naming the field and the rule,
 * so a bad value is refused before anything is read or written.
 */
export const parseInput = <S extends z.ZodType>(schema: S, input: unknown): z.infer<S> => {
  if (typeof input === 'object' && input !== null && validated.get(input) === schema) return input as z.infer<S>;
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ field: issue.path.join('.') || '(input)', rule: issue.message }));
  const first = issues[0]!;
  throw new TenureError('input.invalid', `${first.field}: ${first.rule}`, { field: first.field, details: issues });
};

/**
 * Text Tenure stores or compares: no NUL (PostgreSQL cannot store it), no other C0 control or DEL
 * (they hide in names and logs), no lone UTF-16 surrogate (not a character; it would be stored as
 * U+FFFD, so what was checked is not what was kept). Free prose (`multiline`) may keep tab and line breaks.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point: they are what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- the same, sparing tab and line breaks
const CONTROL_BUT_LAYOUT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL_RULE = 'must not contain control characters (such as NUL)';
const SURROGATE_RULE = 'must be well-formed Unicode (no lone surrogate)';

/** The rule `value` breaks as stored text, if any; the same check guards every string at the boundary. */
export const textRuleBroken = (value: string, multiline = false): string | undefined => {
  if ((multiline ? CONTROL_BUT_LAYOUT : CONTROL).test(value)) return CONTROL_RULE;
  return LONE_SURROGATE.test(value) ? SURROGATE_RULE : undefined;
};

/** Adds the stored-text rules to a string schema; every text helper here and in http/schemas.ts goes through it. */
export const clean = <S extends z.ZodString>(schema: S, multiline = false): S => schema.superRefine((value, context) => {
  const rule = textRuleBroken(value, multiline);
  if (rule) context.addIssue({ code: 'custom', message: rule });
});

export const handle = clean(z.string()).regex(/^[a-z0-9][a-z0-9._-]{1,62}$/, 'must be 2-63 lowercase letters, digits, dot, dash or underscore')
  .regex(NOT_UUID_SHAPED, NOT_UUID_RULE);
/** Free text; from 1000 characters up it is prose (a justification, a comment) and may span lines. */
export const text = (max = 500) => clean(z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`), max >= 1000);

/** Years 1 to 9999: what ISO 8601 writes with four digits, inside what PostgreSQL's timestamptz stores. */
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const DATE_RANGE_RULE = 'must be a date between the years 1 and 9999';
const FIRST_MS = new Date('0001-01-01T00:00:00.000Z').getTime();
export const inRange = (date: Date): boolean => date.getTime() >= FIRST_MS && date.getTime() <= LATEST;

/** A date and time (ISO 8601; a bare date means midnight UTC). Described as a string so the API documents it. */
export const instant = z.preprocess(
  (value) => (value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : value),
  clean(z.string({ error: 'must be a date and time (ISO 8601)' }).max(40, 'must be a date and time (ISO 8601)')).meta({ format: 'date-time' })
    .transform((value, context) => {
      const date = new Date(value);
      if (Number.isNaN(date.getTime())) {
        context.addIssue({ code: 'custom', message: 'must be a valid date and time (ISO 8601)' });
        return z.NEVER;
      }
      if (!inRange(date)) {
        context.addIssue({ code: 'custom', message: DATE_RANGE_RULE });
        return z.NEVER;
      }
      return date;
    }),
);
/** An id (UUID) or a key or handle: a value that is not UUID-shaped is never compared with an id column. */
export const ref = clean(z.string().trim().min(1, 'must name an id or key').max(200, 'must be at most 200 characters'));
/** An entitlement: its id, or its key `system/entitlement`; anything else cannot name one. */
export const entitlementRef = ref.refine((value) => isUuid(value) || /^[^/\s]+\/[^/\s]+$/.test(value),
  'must be an entitlement key (system/entitlement) or an entitlement id');

/**
 * A duration such as 90s, 15m, 8h or 30d, in milliseconds, by the one parser (domain/durations.ts),
 * which refuses a bare number, text or JSON. The milliseconds this produces are not parsed again:
 * `parseInput` trusts what the HTTP layer validated with the same schema. Wrapped in a preprocess
 * only so its input type is open, as a use case's input type also admits that validated value.
 */
export const duration = z.preprocess((value) => value, z.string({
  error: (issue) => (typeof issue.input === 'number' ? `${DURATION_RULE}: a bare number has no unit` : DURATION_RULE),
}).transform((value, context) => {
  const parsed = parseDuration(value);
  if ('rule' in parsed) {
    context.addIssue({ code: 'custom', message: parsed.rule });
    return z.NEVER;
  }
  return parsed.ms;
}));
