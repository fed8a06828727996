/** Durations in the policy file (15m, 8h, 30d), parsed to milliseconds. Its own file: several schema files use it. */
import ms from 'ms';
import { z } from 'zod';

const DURATION_RULE = 'must be a duration such as 15m, 8h or 30d';

/**
 * A positive duration with a unit (15m, 8h, 30d), in milliseconds. A bare number is refused: its
 * unit would be a guess. `required` is the message when the value is missing altogether.
 */
export const duration = (required?: string) => z.string({
  error: (issue) => (issue.input === undefined && required ? required : DURATION_RULE),
}).transform((value, ctx) => {
  const parsed = /^\s*\d+(\.\d+)?\s*[a-z]+\s*$/i.test(value) ? ms(value as ms.StringValue) : undefined;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed <= 0) {
    ctx.addIssue({ code: 'custom', message: `'${value}' is not a duration such as 15m, 8h or 30d` });
    return z.NEVER;
  }
  return parsed;
});
export const durationMs = duration();
