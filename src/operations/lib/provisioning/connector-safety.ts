/**
 * The connector's own check of its powers, turned into one finding per system: open while its
 * credentials can do far more than it needs, closed when they no longer can. Security may accept it
 * as an exception with an end date (for example on PostgreSQL 15, where no CREATEROLE role is safe).
 */
import { DEFAULT_FINDING_DUE_MS, FINDING_KINDS, type Severity } from '../../../domain/findings.js';
import type { CheckResult } from '../../../connectors/contract.js';
import { inTransaction, type Context } from '../../../work/context.js';
import { driftOwner, openFinding, resolveFindingByKey } from './findings.js';

export const recordConnectorSafety = (ctx: Context, system: { id: string; key: string }, check: CheckResult,
  dueMs: Record<Severity, number> = DEFAULT_FINDING_DUE_MS): Promise<void> =>
  inTransaction(ctx, async (work) => {
    const key = `connector_unsafe:${system.id}`;
    const unsafe = check.unsafe ?? [];
    if (unsafe.length === 0) {
      // An unreachable target says nothing about the connector's powers: the finding stays as it was.
      if (check.ok) await resolveFindingByKey(work, key, 'the connector no longer holds more power than it needs');
      return;
    }
    await openFinding(work, { kind: 'connector_unsafe', key, systemId: system.id, ownerId: await driftOwner(work, system.id),
      dueAt: new Date(work.now.getTime() + dueMs[FINDING_KINDS.connector_unsafe]),
      summary: `the connector of ${system.key} can do far more than it needs: ${unsafe.join('; ')}`, evidence: { reasons: unsafe } });
  });
