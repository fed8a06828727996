import Table from 'cli-table3';
import { ERRORS, TenureError } from '../domain/errors.js';
import { isDatabaseUnavailable } from '../store/transient-errors.js';
import { instant, rowsOrRecords, WIDTH } from './views/layout.js';

export interface OutputOptions { json: boolean }

/** A date as the API sends it (ISO 8601 text), so tables read the same in local and server mode. */
const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const cell = (value: unknown): string => {
  if (value === null || value === undefined) return '';
  if (value instanceof Date || (typeof value === 'string' && ISO_INSTANT.test(value))) return instant(value);
  if (Array.isArray(value)) return value.map(cell).join(', ');
  // Nested values read as "key: value" pairs: JSON in a table cell is for machines, and they have --json.
  if (typeof value === 'object') return Object.entries(value).map(([key, inner]) => `${key}: ${cell(inner)}`).join(', ');
  return String(value);
};

/** Tables for people, JSON for scripts: the same data either way. */
export const print = (data: unknown, options: OutputOptions, columns?: string[]): void => {
  if (options.json) {
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  if (Array.isArray(data)) {
    if (data.length === 0) { process.stdout.write('(none)\n'); return; }
    const head = columns ?? Object.keys(data[0] as object);
    process.stdout.write(`${rowsOrRecords(head, (data as Record<string, unknown>[]).map((row) => head.map((c) => cell(row[c]))))}\n`);
    return;
  }
  if (data && typeof data === 'object') {
    const rows = Object.entries(data).map(([key, value]) => [key, cell(value)] as const);
    // Two columns within WIDTH: long values wrap instead of widening the table past the terminal.
    const keyWidth = Math.max(...rows.map(([key]) => key.length)) + 2;
    const valueWidth = Math.min(Math.max(3, ...rows.map(([, value]) => value.length + 2)), WIDTH - keyWidth - 3);
    const pairs = new Table({ colWidths: [keyWidth, valueWidth], wordWrap: true, wrapOnWordBoundary: false, style: { head: [], border: [] } });
    for (const [key, value] of rows) pairs.push({ [key]: value });
    process.stdout.write(`${pairs.toString()}\n`);
    return;
  }
  process.stdout.write(`${cell(data)}\n`);
};

/** Prints an error the same way for every command and returns the exit code it means. */
export const reportError = (error: unknown, options: OutputOptions): number => {
  const message = error instanceof Error ? error.message : String(error);
  const known = error instanceof TenureError ? error
    : isDatabaseUnavailable(error) ? new TenureError('service.unavailable', `the database could not be reached (${message}); try again shortly`)
      : new TenureError('internal', message);
  if (options.json) {
    process.stderr.write(`${JSON.stringify({ error: { code: known.code, title: ERRORS[known.code].title, message: known.message, field: known.field ?? null, details: known.details ?? null } })}\n`);
  } else {
    process.stderr.write(`error ${known.code}: ${known.message}${known.field ? ` (field: ${known.field})` : ''}\n`);
    if (known.code === 'internal' && error instanceof Error && process.env.TENURE_DEBUG) process.stderr.write(`${error.stack}\n`);
  }
  return known.exitCode;
};
