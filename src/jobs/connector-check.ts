/**
 * Every connector checks its target and its own powers when serve or worker starts, so an unsafe
 * connector (superuser, a road to operating-system or all-data roles) is a finding from the first
 * minute, not from the first scheduled reconciliation. Reconciliation checks again at every run.
 */
import { sql } from 'drizzle-orm';
import { connectorFor } from '../connectors/registry.js';
import { recordConnectorSafety } from '../operations/lib/provisioning/connector-safety.js';
import { provisioningSettings } from '../operations/lib/provisioning/settings.js';
import { rawRows } from '../store/database.js';
import type { Context } from '../work/context.js';

export interface ConnectorCheck { system: string; ok: boolean; detail: string; unsafe: string[] }

export const checkConnectors = async (ctx: Context): Promise<ConnectorCheck[]> => {
  const settings = await provisioningSettings(ctx.store.db);
  const live = await rawRows<{ id: string; key: string }>(ctx.store.db, sql`SELECT id, key FROM systems WHERE NOT retired ORDER BY key`);
  const results: ConnectorCheck[] = [];
  for (const system of live) {
    const connector = connectorFor(settings.systems[system.key]);
    if (!connector) continue;
    const check = await connector.check().catch((error: unknown) => ({ ok: false, detail: error instanceof Error ? error.message : String(error) }))
      .finally(() => connector.close?.());
    await recordConnectorSafety(ctx, system, check, settings.findingDueMs);
    results.push({ system: system.key, ok: check.ok, detail: check.detail, unsafe: 'unsafe' in check ? check.unsafe ?? [] : [] });
  }
  return results;
};
