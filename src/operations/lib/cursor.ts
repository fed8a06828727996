import { z } from 'zod';
import { TenureError } from '../../domain/errors.js';

/**
 * Opaque keyset cursors: the sort key and id of the last item of a page, base64url JSON. Keyset
 * rather than offset, so a page is an index range scan and concurrent inserts never shift a page.
 */
export interface Cursor { key: string; id: string }

const CursorShape = z.object({ k: z.string(), i: z.string() }).strict();

export const encodeCursor = (key: string | Date, id: string): string =>
  Buffer.from(JSON.stringify({ k: key instanceof Date ? key.toISOString() : key, i: id })).toString('base64url');

export const decodeCursor = (cursor: string | undefined): Cursor | undefined => {
  if (cursor === undefined) return undefined;
  try {
    const parsed = CursorShape.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return { key: parsed.k, id: parsed.i };
  } catch {
    throw new TenureError('input.invalid', 'cursor: must be a cursor returned by the previous page', { field: 'cursor' });
  }
};

export const cursorField = z.string().max(500, 'must be a cursor returned by the previous page').optional();

/** The page and the cursor of the next one (null on the last page). */
export interface Page<T> { items: T[]; nextCursor: string | null }

export const pageOf = <T>(items: T[], limit: number, cursorOf: (item: T) => string): Page<T> => ({
  items, nextCursor: items.length === limit && items.length > 0 ? cursorOf(items[items.length - 1]!) : null,
});
