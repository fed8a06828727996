/**
 * `tenure worker --once`: what one pass did, one line a part of the pass, only what happened. It reads
 * the summary generically (counters, nested counters, lists of outcomes), so a part added to the pass
 * shows up without a change here, and local and server mode print alike.
 */
import { keyValues } from './layout.js';

/** grantsExpired → grants expired; orphan_account → orphan account. */
const words = (key: string) => key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();

/** A list entry (a reconciled system, a campaign opened, an error) as one phrase: its texts, then its non-zero counters. */
const item = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return String(value);
  const texts = Object.values(value).filter((v): v is string => typeof v === 'string');
  const counts = phrases(value as Record<string, unknown>);
  return [texts.join(': '), counts.length > 0 ? `(${counts.join(', ')})` : ''].filter(Boolean).join(' ');
};

/** The non-zero counters and non-empty lists under `value`, as "tasks opened 1" phrases. */
const phrases = (value: Record<string, unknown>, prefix = ''): string[] => Object.entries(value).flatMap(([key, v]) => {
  const name = words(prefix ? `${prefix} ${key}` : key);
  if (typeof v === 'number') return v === 0 ? [] : [`${name} ${v}`];
  if (typeof v === 'boolean') return v ? [name] : [];
  if (Array.isArray(v)) return v.length === 0 ? [] : [`${name}: ${v.map(item).join('; ')}`];
  if (v && typeof v === 'object') return phrases(v as Record<string, unknown>, key);
  return [];
});

/** The summary of a pass: top-level counters under "lifecycle", every nested part under its own name. */
export const renderPass = (summary: Record<string, unknown>): string => {
  const loose = Object.fromEntries(Object.entries(summary).filter(([, v]) => v === null || typeof v !== 'object'));
  const parts: [string, Record<string, unknown>][] = [['lifecycle', loose],
    ...Object.entries(summary).filter(([, v]) => v !== null && typeof v === 'object').map(([k, v]): [string, Record<string, unknown>] =>
      [k, Array.isArray(v) ? { items: v } : (v as Record<string, unknown>)])];
  const rows = parts.map(([part, value]): [string, string] => [words(part), phrases(value).join(', ')]).filter(([, text]) => text !== '');
  if (rows.length === 0) return 'Worker pass done: nothing was due.\n';
  return `Worker pass done; what it did (everything else had nothing due):\n${keyValues(rows)}\n`;
};
