import { DEFAULT_PROVISIONING, type ProvisioningSettings } from '../../../domain/provisioning.js';
import { loadAppliedPolicy } from '../../../policy/applied.js';
import type { Executor } from '../../../store/database.js';

/** The provisioning part of the applied policy; defaults when none was applied yet or it predates connectors. */
export const provisioningSettings = async (exec: Executor): Promise<ProvisioningSettings> =>
  (await loadAppliedPolicy(exec)).provisioning ?? DEFAULT_PROVISIONING;
