/**
 * The contract every connector implements. Connectors turn a grant into real access in a target
 * system and its end into real removal; they know nothing of requests, approvals or the store, so
 * the caller (the provisioning worker) gives them everything they need in a `ConnectorGrant`.
 *
 * Every operation is idempotent: the worker may run a job again after a crash at any point, so
 * provisioning twice, deprovisioning twice, or deprovisioning something already gone all succeed,
 * and `changed` tells whether this call did anything.
 */

/** What a connector needs to know about one grant. */
export interface ConnectorGrant {
  grantId: string;
  /** The identity's handle; the target account name is derived from it by the connector. */
  identityHandle: string;
  /** Tenure's key of the entitlement, for messages and evidence. */
  entitlementKey: string;
  /** The entitlement's name in the target (PostgreSQL: the role to grant; LDAP: the group). */
  targetName: string;
  startsAt: Date;
  /** null: the grant has no end (birthright access). */
  endsAt: Date | null;
  /**
   * The latest end among the identity's live grants on this system, this one included (null: one
   * of them has no end). The caller knows every grant; the connector only sees this one, and the
   * account must stay valid for the longest of them.
   */
  accountEndsAt: Date | null;
  /** On deprovision: no other live grant of this identity remains on the system, so the account goes too. */
  lastOnSystem: boolean;
  /**
   * A shared operational account (docs/sessions.md): the target name is the account itself, used
   * only through a proxy. Nothing is given to the person's own account; the removal rotates its credential.
   */
  sharedAccount?: boolean;
}

/** One piece of access that really exists in the target. */
export interface AccessEntry {
  account: string;
  /**
   * The Tenure identity handle the account belongs to by the connector's naming rule (the account
   * name without the connector's prefix); reconciliation matches it to an identity. null: the
   * account follows no rule Tenure knows, so it can only be an orphan.
   */
  identityHandle: string | null;
  /** The target-side entitlement name (role, group); reconciliation maps it back to an entitlement key. */
  entitlement: string;
  /**
   * The role or group the access comes through when the account is not a direct member (nesting);
   * absent for a direct membership, the only kind Tenure itself makes.
   */
  via?: string;
  attributes?: Record<string, unknown>;
}

/** An account named by the connector's rule (Tenure made it, or someone imitated the rule), and whether it can sign in. */
export interface AccountState {
  account: string;
  identityHandle: string;
  canLogin: boolean;
  /**
   * When the sign-in ends; null: no end. Absent: the target has no sign-in end at all, only on or off
   * (SCIM's `active`), so the sign-in cannot outlive the grants: their end turns it off.
   */
  validUntil?: Date | null;
}

/** A session open in the target: its account, and the client address the target sees ('local' for a Unix socket). */
export interface ObservedSession { account: string; clientAddress: string; startedAt: Date }

/** Where and as whom a person signs in with a credential Tenure handed out; never the credential. */
export interface SignInDetails { account: string; target: string; validUntil: Date | null }

export interface ConnectorOutcome {
  /** false: the target was already in the wanted state and nothing was done. */
  changed: boolean;
  /**
   * After the last removal: what the account still owns or granted in the target (objects, default
   * privileges, memberships it gave others), in words; absent when nothing is left (the account is then gone).
   */
  leftovers?: string[];
  /**
   * A shared account's credential was replaced at the removal, read back from the target: digests of
   * the stored verifier before (null: there was none) and after, never the verifier or the password.
   */
  rotation?: { beforeSha256: string | null; afterSha256: string };
}

export interface CheckResult {
  ok: boolean;
  /** Human-readable; never contains a credential. */
  detail: string;
  /**
   * Why the connector's own credentials can do far more than it needs (superuser, a road to
   * operating-system or all-data roles); empty or absent when none is known. Reported as a finding.
   */
  unsafe?: string[];
}

export interface Connector {
  /** The connector type, e.g. `postgres-roles`. */
  readonly kind: string;
  provision(grant: ConnectorGrant): Promise<ConnectorOutcome>;
  deprovision(grant: ConnectorGrant): Promise<ConnectorOutcome>;
  /**
   * Every membership of every managed role or group in the target right now, whatever the member is
   * called: Tenure's accounts, anyone else's (identityHandle null), and members through nesting (via).
   */
  listAccess(): Promise<AccessEntry[]>;
  /** Every account that follows the naming rule, with its sign-in state, for connectors whose accounts can sign in apart from memberships. */
  listAccounts?(): Promise<AccountState[]>;
  /** Open sessions of the accounts it manages, with where they come from (bypass detection, docs/sessions.md). */
  listSessions?(): Promise<ObservedSession[]>;
  /** Removes one direct membership of any account in a managed role or group (drift found by reconciliation). */
  revokeMembership?(account: string, entitlement: string): Promise<ConnectorOutcome>;
  /** Brings an account's sign-in to an end (null: no sign-in at all) and ends its sessions. */
  restrictLogin?(account: string, until: Date | null): Promise<ConnectorOutcome>;
  /**
   * Gives the grant's account a password Tenure minted, valid until `grant.accountEndsAt`, replacing
   * any other; the connector stores it in the target only in hashed form. The last deprovision
   * removes it. Absent: the target's sign-in is not Tenure's to hand out (LDAP and SCIM may follow).
   */
  setPassword?(grant: ConnectorGrant, password: string): Promise<SignInDetails>;
  /** Whether the target is reachable with the connector's credentials and allows what it must do. */
  check(): Promise<CheckResult>;
  /**
   * Whether the target still gives this grant's access, for connectors whose access is not an
   * account listAccess could show (SSH certificates). The read-back after a removal uses it when present.
   */
  holds?(grant: ConnectorGrant): Promise<boolean>;
  /** Ends what the connector keeps open between operations (connections); it may be used again after. */
  close?(): Promise<void>;
}
