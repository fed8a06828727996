import { DEFAULT_PROVISIONING, type ProvisioningSettings } from '../../../domain/provisioning.js';
import { findAppliedPolicy, loadAppliedPolicy } from '../../../policy/applied.js';
import type { Executor } from '../../../store/database.js';

/** The provisioning part of the applied policy (refused when none was applied); defaults when it predates connectors. */
export const provisioningSettings = async (exec: Executor): Promise<ProvisioningSettings> =>
  (await loadAppliedPolicy(exec)).provisioning ?? DEFAULT_PROVISIONING;

/**
 * The shared-account patterns in force. Unlike the rest of provisioning they apply before any policy:
 * identities are set up first, and a person called `admin` is refused from the very first one.
 */
export const sharedAccountPatterns = async (exec: Executor): Promise<string[]> =>
  (await findAppliedPolicy(exec))?.provisioning?.sharedAccountPatterns ?? DEFAULT_PROVISIONING.sharedAccountPatterns;
