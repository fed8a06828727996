import ms from 'ms';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { NOT_UUID_RULE, NOT_UUID_SHAPED } from '../domain/ids.js';

/**
 * Validates use-case input; the first problem becomes `input.invalid` naming the field and the rule,
 * so a bad value is refused before anything is read or written.
 */
export const parseInput = <S extends z.ZodType>(schema: S, input: unknown): z.infer<S> => {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ field: issue.path.join('.') || '(input)', rule: issue.message }));
  const first = issues[0]!;
  throw new TenureError('input.invalid', `${first.field}: ${first.rule}`, { field: first.field, details: issues });
};

export const handle = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,62}$/, 'must be 2-63 lowercase letters, digits, dot, dash or underscore')
  .regex(NOT_UUID_SHAPED, NOT_UUID_RULE);
export const text = (max = 500) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
/** A date and time (ISO 8601; a bare date means midnight UTC). Described as a string so the API documents it. */
export const instant = z.preprocess(
  (value) => (value instanceof Date ? value.toISOString() : value),
  z.string({ error: 'must be a date and time (ISO 8601)' }).meta({ format: 'date-time' }).transform((value, context) => {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) {
      context.addIssue({ code: 'custom', message: 'must be a valid date and time (ISO 8601)' });
      return z.NEVER;
    }
    return date;
  }),
);
export const ref = z.string().trim().min(1, 'must name an id or key');

/**
 * A duration such as 90s, 15m, 8h or 30d, in milliseconds. A number is taken as milliseconds: that
 * is what this schema produces, so an already-validated value (the API validates before the use case) passes again.
 */
export const duration = z.preprocess((value) => (typeof value === 'number' ? `${value}ms` : value), z.string().transform((value, context) => {
  const parsed = ms(value as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed <= 0) {
    context.addIssue({ code: 'custom', message: 'must be a positive duration such as 15m, 8h or 30d' });
    return z.NEVER;
  }
  return parsed;
}));
