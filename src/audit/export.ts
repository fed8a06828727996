import { once } from 'node:events';
import { asc, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Executor } from '../store/database.js';
import { auditEvents } from '../store/schema.js';
import { GENESIS_HASH } from './chain.js';
import { auditWhere, checkedRecord, type AuditFilters } from './search.js';

export const EXPORT_PAGE = 5_000;

export interface ExportResult { events: number; lastSeq: number | null }

const previous = alias(auditEvents, 'previous');

/**
 * One line per event: `{"seq","hash","prevHash","event"}`, where `event` is the stored canonical
 * text verbatim. With `prevHash` each line verifies on its own (hash = SHA-256(prevHash ‖ event)),
 * so a filtered export, which has gaps, is still checkable against a checkpoint by an auditor.
 */
export const exportLine = (row: { seq: number; hash: string; prevHash: string | null; canonical: string }): string =>
  `{"seq":${Number(row.seq)},"hash":"${row.hash}","prevHash":"${row.prevHash ?? GENESIS_HASH}","event":${row.canonical}}\n`;

const page = (exec: Executor, filters: AuditFilters, afterSeq: number | undefined) =>
  exec.select({ seq: auditEvents.seq, hash: auditEvents.hash, prevHash: previous.hash, canonical: auditEvents.canonical })
    .from(auditEvents)
    .leftJoin(previous, sql`${previous.seq} = ${auditEvents.seq} - 1`)
    .where(auditWhere({ ...filters, afterSeq }))
    .orderBy(asc(auditEvents.seq)).limit(EXPORT_PAGE);

/** Writes matching events as JSON Lines, page by page, waiting for the stream to drain. */
export const exportAuditEvents = async (exec: Executor, filters: AuditFilters, out: NodeJS.WritableStream): Promise<ExportResult> => {
  let afterSeq = filters.afterSeq;
  let events = 0;
  let lastSeq: number | null = null;
  for (;;) {
    const rows = await page(exec, filters, afterSeq);
    if (rows.length === 0) break;
    for (const row of rows) checkedRecord(row, filters);
    if (!out.write(rows.map(exportLine).join(''))) await once(out, 'drain');
    events += rows.length;
    afterSeq = lastSeq = Number(rows[rows.length - 1]!.seq);
    if (rows.length < EXPORT_PAGE) break;
  }
  return { events, lastSeq };
};
