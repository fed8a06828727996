import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import type { Context } from '../work/context.js';
import { HrEventInput, runHrEvents, toEventData, type HrRunResult } from './ingest-hr-events.js';
import { parseInput } from './input.js';

/** The columns of an HR file; `type`, `employee_id` and `effective_at` are required, the rest optional. */
export const HR_CSV_COLUMNS = ['event_id', 'source', 'type', 'employee_id', 'effective_at', 'name', 'email', 'manager', 'department',
  'title', 'location', 'employment_class', 'start_date', 'end_date'] as const;
const REQUIRED = ['type', 'employee_id', 'effective_at'] as const;
const ATTRIBUTES = ['name', 'email', 'manager', 'department', 'title', 'location', 'employment_class', 'start_date', 'end_date'] as const;

export const Input = z.object({
  csv: z.string().min(1, 'must not be empty'),
  /** The source for rows without a `source` column (a file usually comes from one HR system). */
  source: z.string().optional(),
  dryRun: z.boolean().default(false),
}).strict();

const readRows = (csv: string): Record<string, string>[] => {
  let rows: Record<string, string>[];
  try {
    rows = parse(csv, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true });
  } catch (error) {
    throw new TenureError('hr.csv_invalid', `the file is not valid CSV: ${(error as Error).message}`, { field: 'csv' });
  }
  const columns = Object.keys(rows[0] ?? {});
  const unknown = columns.find((c) => !(HR_CSV_COLUMNS as readonly string[]).includes(c));
  if (unknown) throw new TenureError('hr.csv_invalid', `unknown column '${unknown}' (expected: ${HR_CSV_COLUMNS.join(', ')})`, { field: 'csv' });
  const missing = REQUIRED.find((c) => !columns.includes(c));
  if (missing) throw new TenureError('hr.csv_invalid', `the column '${missing}' is required`, { field: 'csv' });
  return rows;
};

/**
 * One row as an event. A row without `event_id` is named by a digest of its content, so importing
 * the same file twice replays rather than applies twice. Errors name the line (the header is line 1).
 */
const toEvent = (row: Record<string, string>, line: number, source: string | undefined) => {
  const value = (c: string) => (row[c] === undefined || row[c] === '' ? undefined : row[c]);
  const attributes = Object.fromEntries(ATTRIBUTES.flatMap((a) => (value(a) === undefined ? [] : [[a, value(a)]])));
  const content = { source: value('source') ?? source, type: value('type'), employee_id: value('employee_id'), effective_at: value('effective_at'), attributes };
  const id = value('event_id') ?? `row-${createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32)}`;
  try {
    return parseInput(HrEventInput, { ...content, id });
  } catch (error) {
    if (!(error instanceof TenureError)) throw error;
    const field = error.field === 'source' && content.source === undefined ? 'source (give --source or a source column)' : error.field;
    throw new TenureError('input.invalid', `line ${line}: ${field}: ${error.message.replace(/^[^:]+: /, '')}`, { field: `line ${line}.${error.field}` });
  }
};

/** `tenure hr import FILE`: every row checked before anything is applied, then run like API events, with the brake over the whole file. */
export const importHrFile = async (ctx: Context, input: z.input<typeof Input>): Promise<HrRunResult> => {
  const data = parseInput(Input, input);
  const events = readRows(data.csv).map((row, i) => toEventData(toEvent(row, i + 2, data.source)));
  return runHrEvents(ctx, events, { dryRun: data.dryRun, channel: ctx.actor.channel });
};
