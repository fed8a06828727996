import { z } from 'zod';
import { searchAuditEvents, type AuditRecord } from '../audit/search.js';
import { readsThatMayLag } from '../store/database.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';
import { authorize } from './authorize.js';
import { FilterInput, resolveFilters } from './lib/audit-filters.js';

export const Input = FilterInput.extend({ limit: z.number().int().min(1).max(5000).default(200), newestFirst: z.boolean().default(false) }).strict();

export interface AuditSearchResult {
  events: AuditRecord[];
  /** Pass as `afterSeq` (as `beforeSeq` when newest first) for the next page; null when this page was the last. */
  nextAfterSeq: number | null;
}

/** Audit events by identity, system, action, actor and time, oldest first unless asked newest first, for audit readers. */
export const searchAudit = async (ctx: Context, input: z.input<typeof Input>): Promise<AuditSearchResult> => {
  const data = parseInput(Input, input);
  await authorize(ctx, 'audit.read');
  // From the replica when there is one: a search may lag the primary (docs/high-availability.md).
  const exec = readsThatMayLag(ctx.store);
  const filters = await resolveFilters(exec, data);
  const events = await searchAuditEvents(exec, { ...filters, limit: data.limit, newestFirst: data.newestFirst });
  const full = events.length === data.limit;
  return { events, nextAfterSeq: full ? events[events.length - 1]!.seq : null };
};
