/** The `provisioning` part of the applied document, from a validated policy document. */
import { DEFAULT_FINDING_DUE_MS } from '../domain/findings.js';
import type { ProvisioningSettings, SystemProvisioning } from '../domain/provisioning.js';
import type { PolicyDocument } from './schema.js';

export const provisioningSettingsOf = (doc: PolicyDocument): ProvisioningSettings => {
  const systems: Record<string, SystemProvisioning> = {};
  for (const [systemKey, system] of Object.entries(doc.systems)) {
    if (!system.connector) continue;
    const targets = Object.fromEntries(Object.entries(system.entitlements)
      .map(([name, entitlement]) => [`${systemKey}/${name}`, entitlement.target ?? name]));
    const forwarding = Object.fromEntries(Object.entries(system.entitlements).filter(([, e]) => e.forwarding)
      .map(([name, e]) => [`${systemKey}/${name}`, e.forwarding!]));
    const noFileTransfer = Object.entries(system.entitlements).filter(([, e]) => e.file_transfer === false).map(([name]) => `${systemKey}/${name}`).sort();
    const shared = Object.entries(system.entitlements).filter(([, e]) => e.shared_account).map(([name, e]) => e.target ?? name).sort();
    systems[systemKey] = {
      connector: system.connector,
      reconcile: { mode: system.reconcile?.mode ?? 'report', everyMs: system.reconcile?.every ?? null },
      targets,
      privilegedTargets: Object.entries(system.entitlements).filter(([, e]) => e.privileged_target).map(([name, e]) => e.target ?? name).sort(),
      // Only when there are some, so the applied document of a system without shared accounts is unchanged.
      ...(shared.length > 0 ? { sharedTargets: shared } : {}),
      ...(Object.keys(forwarding).length > 0 ? { forwarding } : {}),
      ...(noFileTransfer.length > 0 ? { noFileTransfer } : {}),
    };
  }
  return {
    brake: doc.provisioning.brake,
    maxAttempts: doc.provisioning.max_attempts,
    sharedAccountPatterns: doc.provisioning.shared_account_patterns,
    systems,
    findingDueMs: { ...DEFAULT_FINDING_DUE_MS, ...Object.fromEntries(Object.entries(doc.provisioning.finding_due ?? {}).filter(([, ms]) => ms !== undefined)) },
  };
};
