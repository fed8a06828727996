import { z } from 'zod';
import { TenureError } from '../../domain/errors.js';
import { handle, inRange } from '../input.js';

/**
 * Opaque keyset cursors: the sort key and id of the last item of a page, base64url JSON. Keyset
 * rather than offset, so a page is an index range scan and concurrent inserts never shift a page.
 * Not signed: a cursor only narrows what the caller may already list, so a forged one can only be
 * malformed, and that is refused whole here (the key's kind, the id a UUID) before it reaches SQL.
 */
export interface Cursor { key: string; id: string }

/** What a list sorts by: a time, a sequence number (bigint), or an identity's handle. */
export type CursorKey = 'date' | 'integer' | 'handle';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const KEYS: Record<CursorKey, z.ZodType<string>> = {
  date: z.string().regex(ISO).refine((k) => inRange(new Date(k))),
  integer: z.string().regex(/^\d{1,15}$/),
  handle,
};
const RULE = 'must be a cursor returned by the previous page';
/** Built once per kind: every page of every list decodes its cursor through one of these. */
const shape = (key: z.ZodType<string>) => z.object({ k: key, i: z.uuid() }).strict();
const SHAPES: Record<CursorKey, ReturnType<typeof shape>> = { date: shape(KEYS.date), integer: shape(KEYS.integer), handle: shape(KEYS.handle) };

export const encodeCursor = (key: string | Date, id: string): string =>
  Buffer.from(JSON.stringify({ k: key instanceof Date ? key.toISOString() : key, i: id })).toString('base64url');

export const decodeCursor = (cursor: string | undefined, kind: CursorKey): Cursor | undefined => {
  if (cursor === undefined) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const parsed = SHAPES[kind].safeParse(decoded);
  if (!parsed.success) throw new TenureError('input.invalid', `cursor: ${RULE}`, { field: 'cursor' });
  return { key: parsed.data.k, id: parsed.data.i };
};

/** Base64url only, so nothing else reaches the decoder. */
export const cursorField = z.string().regex(/^[A-Za-z0-9_-]{1,500}$/, RULE).optional();

/** The page and the cursor of the next one (null on the last page). */
export interface Page<T> { items: T[]; nextCursor: string | null }

export const pageOf = <T>(items: T[], limit: number, cursorOf: (item: T) => string): Page<T> => ({
  items, nextCursor: items.length === limit && items.length > 0 ? cursorOf(items[items.length - 1]!) : null,
});
