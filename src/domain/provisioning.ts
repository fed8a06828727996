/**
 * Provisioning as the domain sees it: what the policy says about each system's connector, the
 * states of a grant in its target and of a job, the retry schedule and the mass-revocation brake.
 * Pure: no I/O; the worker (jobs/provisioning.ts) applies these rules.
 */
import type { Severity } from './findings.js';

/** Where a grant stands in its target system. */
export const PROVISIONING_STATES = ['pending', 'provisioned', 'failed', 'deprovisioned'] as const;
export type ProvisioningState = (typeof PROVISIONING_STATES)[number];

export const JOB_STATES = ['queued', 'running', 'failing', 'held', 'awaiting_confirmation', 'done', 'superseded', 'resolved'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const JOB_ACTIONS = ['provision', 'deprovision'] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];
/** Jobs that still have work in them. */
export const OPEN_JOB_STATES: JobState[] = ['queued', 'running', 'failing', 'held', 'awaiting_confirmation'];

/** Connector settings as written in the policy (snake_case, secrets as references). */
export type ConnectorSpec =
  | { type: 'postgres-roles'; url: string; role_prefix: string; leftovers: 'report' | 'drop' | { reassign_to: string };
      /** Present: people may connect through Tenure's PostgreSQL proxy (docs/sessions.md). */
      proxy?: { upstream?: string | undefined; parameters: 'redact' | 'keep'; addresses?: string[] | undefined } | undefined }
  | { type: 'scim'; base_url: string; token: string; user_name_prefix?: string | undefined }
  | { type: 'ldap'; url: string; bind_dn: string; bind_password: string; users_dn: string; groups_dn: string; uid_prefix?: string | undefined;
      admin_groups?: string[] | undefined }
  | { type: 'manual'; provision_due_ms: number; removal_due_ms: number }
  /** Tenure signs SSH certificates; `ca_key` and `previous_ca_keys` are file: references, read by ssh-keygen only. */
  | { type: 'ssh-ca'; ca_key: string; previous_ca_keys: string[]; krl_path: string; max_ttl_ms: number;
      /** Present: people reach these hosts through Tenure's SSH proxy, which signs in with `upstream_key` (docs/sessions.md). */
      proxy?: { upstream_key: string; addresses?: string[] | undefined; hosts: Record<string, { address: string; host_key: string }> } | undefined };

export type ConnectorType = ConnectorSpec['type'];

export interface ReconcileSettings {
  /** `report`: findings only; `revoke`: also remove drift (access without a grant) from the target. */
  mode: 'report' | 'revoke';
  /** How often the worker reconciles the system; null: only on demand. */
  everyMs: number | null;
}

export interface SystemProvisioning {
  connector: ConnectorSpec;
  reconcile: ReconcileSettings;
  /** Entitlement key → its name in the target (role, group, principal). */
  targets: Record<string, string>;
  /** Target names whose entitlement says `privileged_target: true`; absent in a policy applied before it existed (none). */
  privilegedTargets?: string[];
  /** Target names of the system's shared accounts (docs/sessions.md); absent when it has none. */
  sharedTargets?: string[];
  /** Entitlement key → the `host:port` destinations a proxied SSH session may forward to; absent when none may. */
  forwarding?: Record<string, string[]>;
  /** Entitlement keys whose sessions through the SSH proxy may not transfer files (SFTP, scp); absent when every one may. */
  noFileTransfer?: string[];
}

export interface BrakeSettings {
  /** The share of a system's access one batch or reconciliation may revoke without confirmation. */
  share: number;
  /** Below this many revocations the brake never trips, so small systems are not blocked by every removal. */
  minimum: number;
}

export interface ProvisioningSettings {
  brake: BrakeSettings;
  /** After this many failed attempts the grant shows `failed` and a finding opens; retries go on. */
  maxAttempts: number;
  /** Account names that look shared or generic (case-insensitive regular expressions). */
  sharedAccountPatterns: string[];
  /** System key → its connector; a system absent here has its jobs handled as manual tasks. */
  systems: Record<string, SystemProvisioning>;
  /** How long a drift finding's owner has to act, by severity (absent before: DEFAULT_FINDING_DUE_MS). */
  findingDueMs?: Record<Severity, number>;
}

/**
 * How long a claim on a provisioning job lasts unless renewed: short, because a live worker renews
 * it (a third of it at a time) and only a dead worker lets it lapse, holding up that person's other
 * jobs on the system for at most this long.
 */
export const DEFAULT_LEASE_MS = 15_000;

export const DEFAULT_MANUAL_DUE = { provisionMs: 2 * 24 * 3_600_000, removalMs: 24 * 3_600_000 };

/** Names that people share or that belong to no one in particular: `admin`, `root`, `test`, `shared-…`. */
export const DEFAULT_SHARED_ACCOUNT_PATTERNS = [
  '^(admin|administrator|root|sa|sysadmin|superuser|dba)$',
  '(^|[._-])(shared|generic|common|team|group|test|temp|tmp|guest|demo)([._-]|$)',
];

export const DEFAULT_PROVISIONING: ProvisioningSettings = {
  brake: { share: 0.1, minimum: 5 },
  maxAttempts: 5,
  sharedAccountPatterns: DEFAULT_SHARED_ACCOUNT_PATTERNS,
  systems: {},
};

const BACKOFF_BASE_MS = 30_000;
const BACKOFF_CAP_MS = 3_600_000;

/**
 * When to try a failed job again: 30 s doubling per attempt up to an hour. No jitter: the jobs of
 * one system fail together when its target is down, and they should come back together too, once,
 * rather than spread over the hour.
 */
export const retryDelayMs = (attempts: number): number =>
  Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));

/**
 * Whether revoking `revocations` pieces of access out of `heldAccess` on one system needs security
 * to confirm first. Above the share and above the minimum count: a broken HR feed or a policy typo
 * should not be able to empty a system silently.
 */
export const brakeTrips = (revocations: number, heldAccess: number, brake: BrakeSettings): boolean =>
  revocations > brake.minimum && revocations > brake.share * Math.max(heldAccess, 0);

/** Whether an account name looks shared or generic under the configured patterns. */
export const looksShared = (account: string, patterns: readonly RegExp[]): boolean =>
  patterns.some((pattern) => pattern.test(account));

export const compileSharedPatterns = (patterns: readonly string[]): RegExp[] => patterns.map((p) => new RegExp(p, 'i'));

/**
 * Whether reconciliation can compare the system's target with its grants: a manual system has no
 * listing, and an SSH CA issues certificates rather than keeping accounts.
 */
/** Connectors whose holders may take a password Tenure mints for the target (Connector.setPassword). */
export const HANDS_OUT_CREDENTIALS: readonly ConnectorType[] = ['postgres-roles'];

export const isReconcilable = (system: SystemProvisioning | undefined): system is SystemProvisioning =>
  system !== undefined && system.connector.type !== 'manual' && system.connector.type !== 'ssh-ca';

/**
 * Target names that hand out the keys to the target itself: PostgreSQL's superuser and predefined
 * `pg_*` roles (pg_execute_server_program runs commands on the host; pg_read_all_data reads
 * everything), and the administrative groups of a directory. Managing one is allowed only when the
 * policy says so on purpose, at tier privileged.
 */
const PRIVILEGED_TARGETS: Record<string, (name: string) => boolean> = {
  'postgres-roles': (name) => name === 'postgres' || /^pg_/i.test(name) || /^(rds_superuser|cloudsqlsuperuser|azure_pg_admin)$/i.test(name),
  ldap: (name) => /^(domain admins|enterprise admins|schema admins|administrators|account operators|backup operators|server operators)$/i.test(name),
};

/** `adminGroups`: the groups a directory's policy names as administrative, on top of the well-known ones. */
export const isPrivilegedTarget = (connectorType: string, targetName: string, adminGroups: string[] = []): boolean =>
  (PRIVILEGED_TARGETS[connectorType]?.(targetName) ?? false)
  || (connectorType === 'ldap' && adminGroups.some((group) => group.toLowerCase() === targetName.toLowerCase()));
