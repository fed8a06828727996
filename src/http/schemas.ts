import { z } from 'zod';
import { ERRORS, type ErrorCode } from '../domain/errors.js';
import { clean, ref } from '../operations/input.js';
import { cursorField } from '../operations/lib/cursor.js';

/** Shared wire shapes. Dates travel as ISO 8601 strings and are Dates inside. */
export const isoDate = z.codec(z.iso.datetime({ offset: true }), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});
export const optionalDate = isoDate.nullable();

/**
 * The wire's shapes come from the same helpers as the use cases' (operations/input.ts): text is
 * clean (no control character, no lone surrogate), dates lie in years 1..9999, cursors are checked.
 */
export const idParam = <K extends string>(name: K, what: string) =>
  z.object({ [name]: clean(z.string().min(1).max(200)).describe(what) } as Record<K, z.ZodString>).strict();

/** A filter in a query string naming an identity, system or entitlement by id, handle or key. */
export const refQuery = ref.optional();

/** Query-string limits arrive as text. */
export const limitQuery = (max: number) => z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(max, `must be at most ${max}`).optional();
export const cursorQuery = cursorField.describe('the nextCursor of the previous page');

export const page = <T extends z.ZodType>(item: T) => z.object({
  items: z.array(item),
  nextCursor: z.string().nullable().describe('pass as cursor for the next page; null on the last page'),
});

/** Who holds a shared account (a check-out's grant), from when and until when (null: no set end). */
export const sharedAccountHolder = z.object({ handle: z.string(), grant: z.string(), from: z.string(), until: z.string().nullable() });

export const problemSchema = z.object({
  type: z.string(), title: z.string(), status: z.number().int(), detail: z.string(),
  code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]),
  field: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), rule: z.string() })).optional(),
  holder: sharedAccountHolder.optional()
    .describe('shared_account.checked_out: who holds the shared account, and until when (null: no set end)'),
}).describe('application/problem+json (RFC 9457) with a stable code from docs/errors.md');

/** Responses common to every authenticated route, documented once. */
export const problems = {
  400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema, 409: problemSchema, 422: problemSchema, 429: problemSchema,
};

export const reason = clean(z.string().trim().min(1, 'must not be empty').max(2000, 'must be at most 2000 characters'), true);
