import type { z } from 'zod';
import { exportAuditEvents, type ExportResult } from '../audit/export.js';
import { readsThatMayLag } from '../store/database.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';
import { authorize } from './authorize.js';
import { FilterInput, resolveFilters } from './lib/audit-filters.js';

export const Input = FilterInput.strict();

/** Writes the matching audit events to `out` as JSON Lines, for audit readers. */
export const exportAudit = async (ctx: Context, input: z.input<typeof Input>, out: NodeJS.WritableStream): Promise<ExportResult> => {
  const data = parseInput(Input, input);
  await authorize(ctx, 'audit.read');
  // From the replica when there is one: an export may lag the primary (docs/high-availability.md).
  const exec = readsThatMayLag(ctx.store);
  const filters = await resolveFilters(exec, data);
  return exportAuditEvents(exec, filters, out);
};
