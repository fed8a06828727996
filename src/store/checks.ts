import { sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

const literal = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/**
 * `column in ('a','b',…)` from one of the domain's closed lists, so that the list the code types a
 * column with and the CHECK the database enforces cannot disagree. The values are inlined (not
 * bound): a constraint's text has no parameters, and drizzle-kit compares it with the snapshot.
 */
export const oneOf = (column: AnyPgColumn, values: readonly string[]): SQL =>
  sql`${column} in (${sql.raw(values.map(literal).join(','))})`;
