import { z } from 'zod';
import { searchAuditEvents, type AuditRecord } from '../audit/search.js';
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
  const filters = await resolveFilters(ctx.store.db, data);
  const events = await searchAuditEvents(ctx.store.db, { ...filters, limit: data.limit, newestFirst: data.newestFirst });
  const full = events.length === data.limit;
  return { events, nextAfterSeq: full ? events[events.length - 1]!.seq : null };
};
