/**
 * Building blocks of the CLI's readable views: aligned "key  value" lines and small tables that fit
 * a terminal of `WIDTH` columns, so what a person reads never needs a 274-column window.
 */
import Table from 'cli-table3';

/** The widest a view may be: a terminal split in two, or a ticket comment, still shows it whole. */
export const WIDTH = 100;

/** An instant as the API sends it or as the use cases return it, to the second, in UTC. */
export const instant = (value: Date | string | null | undefined): string => {
  if (value === null || value === undefined || value === '') return '';
  const iso = value instanceof Date ? value.toISOString() : value;
  return iso.replace(/\.\d{3}Z$/, 'Z');
};

/** Breaks `text` into lines of at most `width` characters at spaces (a longer word stays whole). */
const wrap = (text: string, width: number): string[] => {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) { lines.push(line); line = word; } else line = line ? `${line} ${word}` : word;
  }
  return lines.length === 0 && !line ? [''] : [...lines, line];
};

/** "  key    value" lines, values wrapped under themselves; empty values are left out. */
export const keyValues = (rows: [string, string][], indent = 2): string => {
  const shown = rows.filter(([, value]) => value !== '');
  const keyWidth = Math.max(0, ...shown.map(([key]) => key.length));
  const valueWidth = WIDTH - indent - keyWidth - 2;
  return shown.map(([key, value]) => wrap(value, valueWidth)
    .map((part, i) => `${' '.repeat(indent)}${(i === 0 ? key : '').padEnd(keyWidth)}  ${part}`.trimEnd()).join('\n')).join('\n');
};

/** What each column needs to show its longest cell whole, padding included. */
const neededWidths = (head: string[], rows: string[][]): number[] =>
  head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)) + 2);

/**
 * A table whose columns share `WIDTH`: each gets what its longest cell needs, and when that is too
 * much the widest columns give way and wrap.
 */
export const table = (head: string[], rows: string[][]): string => {
  const needed = neededWidths(head, rows);
  const room = WIDTH - (head.length + 1);
  const widths = [...needed];
  while (widths.reduce((a, b) => a + b, 0) > room) {
    const widest = widths.indexOf(Math.max(...widths));
    widths[widest] = widths[widest]! - 1;
  }
  const t = new Table({ head, colWidths: widths, wordWrap: true, style: { head: [], border: [] } });
  for (const row of rows) t.push(row);
  return t.toString();
};

/**
 * A list as a table when its rows fit in `WIDTH` as they are; otherwise as records, one "key  value"
 * block per row (psql's expanded display). Ids and dates are what people copy, so a cell is never
 * cut to make a table fit.
 */
export const rowsOrRecords = (head: string[], rows: string[][]): string => {
  const needed = neededWidths(head, rows);
  if (needed.reduce((a, b) => a + b, 0) + head.length + 1 <= WIDTH) {
    const t = new Table({ head, colWidths: needed, style: { head: [], border: [] } });
    for (const row of rows) t.push(row);
    return t.toString();
  }
  return rows.map((row) => keyValues(head.map((key, i): [string, string] => [key, row[i] ?? '']), 0)).join('\n\n');
};
