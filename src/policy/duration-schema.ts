/** Durations in the policy file (15m, 8h, 30d), parsed to milliseconds. Its own file: several schema files use it. */
import { z } from 'zod';
import { DURATION_RULE, parseDuration } from '../domain/durations.js';

/**
 * A positive duration with a unit (15m, 8h, 30d), in milliseconds, by the one parser every
 * duration goes through. `required` is the message when the value is missing altogether.
 */
export const duration = (required?: string) => z.string({
  error: (issue) => {
    if (issue.input === undefined && required) return required;
    return typeof issue.input === 'number' ? `${DURATION_RULE}: a bare number has no unit` : DURATION_RULE;
  },
}).transform((value, ctx) => {
  const parsed = parseDuration(value);
  if ('rule' in parsed) {
    ctx.addIssue({ code: 'custom', message: `'${value}' is not a duration: ${parsed.rule}` });
    return z.NEVER;
  }
  return parsed.ms;
});
export const durationMs = duration();
