/**
 * The in-memory index the decision point answers from: identities by id and handle (each with its
 * live and recently ended grants, and the engagements those grants belong to), entitlements by id,
 * by key and by `system/action`, and active credentials by fingerprint. Filled in bulk (loader.ts) and patched per identity as the change
 * feed reports changes; every patch is applied synchronously, so an answer never sees half of one.
 */
import type {
  DecisionCredential, DecisionEngagement, DecisionEntitlement, DecisionFacts, DecisionGrant, DecisionIdentity, GrantSource,
} from '../domain/decision.js';
import { compileConditions, type DecisionContext } from '../domain/decision-conditions.js';
import { isUuid } from '../domain/ids.js';
import {
  ENGAGEMENT_STATUSES, GRANT_STATUSES, IDENTITY_KINDS, IDENTITY_STATUSES, isNonEmployee, TIERS, type IdentityKind, type IdentityStatus, type Tier,
} from '../domain/model.js';
import type { DecisionSettings } from '../domain/decision-settings.js';

/** Rows as the loader reads them (snake_case, times as epoch milliseconds). */
export interface IdentityRecord { id: string; handle: string; kind: string; status: string; sponsor_id: string | null }
export interface EngagementRecord { id: string; identity_id: string; status: string; starts_at: number; ends_at: number }
export interface GrantRecord {
  id: string; identity_id: string; entitlement_id: string; engagement_id: string | null;
  status: string; starts_at: number; ends_at: number | null;
}
export interface EntitlementRecord { id: string; key: string; system_key: string; tier: string; retired: boolean }
/** An active credential: only what tells whose it is; its name and kind are read when a finding needs them. */
export interface CredentialRecord { id: string; identity_id: string; fingerprint: string }

export interface IdentityEntry extends DecisionIdentity {
  handle: string;
  sponsorId: string | null;
  /**
   * The grants, each after the ref of its entitlement: `[ref, grant, ref, grant, ...]`. One array, so
   * finding the grants for an entitlement reads one block of memory (cache misses dominate on a large index).
   */
  held: (number | DecisionGrant)[];
}

export interface EntitlementEntry extends DecisionEntitlement {
  systemKey: string;
  actions: readonly string[];
  /** This entry as the one candidate of a question naming it: built once, not per answer. */
  alone: readonly EntitlementEntry[];
}

/** What is asked: an identity (id or handle) and either an entitlement key or a system and an action. */
export interface CheckQuery {
  identity: string;
  entitlement?: string | undefined;
  system?: string | undefined;
  action?: string | undefined;
  context?: DecisionContext | undefined;
}

/**
 * Status and kind strings read from the database are distinct string objects: comparing one with a
 * literal reads its characters, a cache miss per answer on a large index. Swapping them for the
 * literals at load makes those comparisons pointer compares.
 */
const LITERALS = new Map<string, string>([
  ...IDENTITY_STATUSES, ...GRANT_STATUSES, ...ENGAGEMENT_STATUSES, ...IDENTITY_KINDS, ...TIERS,
].map((value) => [value, value]));
const literal = <T extends string>(value: string): T => (LITERALS.get(value) ?? value) as T;

/**
 * The engine's own (internalized) copy of a string. JSON.parse hands out internalized copies of short
 * strings (handles, short keys), and two internalized strings compare by pointer: a map lookup then
 * never reads the stored key's characters.
 */
const internalized = (value: string): string => Object.keys({ [value]: 0 })[0]!;

const NONE: readonly EntitlementEntry[] = [];
const NO_GRANTS: readonly DecisionGrant[] = [];

/** A grant pointing at an engagement the index does not hold is treated as outside any open engagement. */
const UNKNOWN_ENGAGEMENT: DecisionEngagement = { id: 'unknown', status: 'unknown', startsAt: Infinity, endsAt: -Infinity };

export class DecisionIndex implements GrantSource {
  private readonly identities = new Map<string, IdentityEntry>();
  private readonly handles = new Map<string, IdentityEntry>();
  private readonly engagements = new Map<string, DecisionEngagement>();
  private entitlementsByKey = new Map<string, EntitlementEntry>();
  private entitlementsByAction = new Map<string, Map<string, EntitlementEntry[]>>();
  /** Entitlement id → ref; refs are never reused, so grants keep matching across catalogue reloads. */
  private readonly refs = new Map<string, number>();
  private grantCount = 0;
  /** Fingerprint → active credential, and identity id → the fingerprints of its active credentials. */
  private readonly credentials = new Map<string, DecisionCredential>();
  private readonly credentialsOf = new Map<string, string[]>();

  private refOf(entitlementId: string): number {
    let ref = this.refs.get(entitlementId);
    if (ref === undefined) { ref = this.refs.size; this.refs.set(entitlementId, ref); }
    return ref;
  }

  /** Replaces the whole catalogue: entitlements (retired ones are left out) with their actions and conditions. */
  replaceCatalogue(rows: readonly EntitlementRecord[], settings: DecisionSettings | undefined): void {
    const byKey = new Map<string, EntitlementEntry>();
    const byAction = new Map<string, Map<string, EntitlementEntry[]>>();
    for (const row of rows) {
      if (row.retired) continue;
      const attributes = settings?.[row.key];
      const entry: EntitlementEntry = {
        id: row.id, ref: this.refOf(row.id), key: internalized(row.key), tier: literal<Tier>(row.tier), systemKey: row.system_key,
        actions: attributes?.actions ?? [], conditions: compileConditions(attributes?.conditions), alone: NONE,
      };
      entry.alone = Object.freeze([entry]);
      byKey.set(entry.key, entry);
      const systemKey = internalized(row.system_key);
      let actions = byAction.get(systemKey);
      if (!actions) { actions = new Map(); byAction.set(systemKey, actions); }
      for (const action of entry.actions.map(internalized)) {
        const list = actions.get(action);
        if (list) list.push(entry); else actions.set(action, [entry]);
      }
    }
    this.entitlementsByKey = byKey;
    this.entitlementsByAction = byAction;
  }

  /** Adds identities (bulk load); an identity already held is replaced, without its grants. */
  putIdentities(rows: readonly IdentityRecord[]): void {
    for (const row of rows) {
      const previous = this.identities.get(row.id);
      if (previous) {
        this.grantCount -= previous.held.length / 2;
        if (this.handles.get(previous.handle) === previous) this.handles.delete(previous.handle);
      }
      const entry: IdentityEntry = {
        id: row.id, handle: internalized(row.handle), kind: literal<IdentityKind>(row.kind), status: literal<IdentityStatus>(row.status),
        sponsorId: row.sponsor_id, held: [],
      };
      this.identities.set(row.id, entry);
      this.handles.set(entry.handle, entry);
    }
  }

  putEngagements(rows: readonly EngagementRecord[]): void {
    for (const row of rows) {
      this.engagements.set(row.id, { id: row.id, status: literal(row.status), startsAt: row.starts_at, endsAt: row.ends_at });
    }
  }

  /** Adds grants to identities already put (grants of unknown identities are ignored). */
  putGrants(rows: readonly GrantRecord[]): void {
    for (const row of rows) {
      const identity = this.identities.get(row.identity_id);
      if (!identity) continue;
      const engagement = row.engagement_id === null ? null : this.engagements.get(row.engagement_id) ?? UNKNOWN_ENGAGEMENT;
      const grant: DecisionGrant = { id: row.id, status: literal(row.status), startsAt: row.starts_at, endsAt: row.ends_at ?? Infinity, engagement };
      identity.held.push(this.refOf(row.entitlement_id), grant);
      this.grantCount += 1;
    }
  }

  /** Adds active credentials (bulk load); a fingerprint is active on one credential at a time (unique index). */
  putCredentials(rows: readonly CredentialRecord[]): void {
    for (const row of rows) {
      this.credentials.set(row.fingerprint, { id: row.id, identityId: row.identity_id });
      const held = this.credentialsOf.get(row.identity_id);
      if (held) held.push(row.fingerprint); else this.credentialsOf.set(row.identity_id, [row.fingerprint]);
    }
  }

  /**
   * Replaces what is held about some identities with a consistent read of them: new entries are built
   * and swapped in within this one synchronous call, so no answer sees an identity without its grants.
   * Every credential change names its holder, so reloading the holder's active credentials (dropping
   * the old ones first) follows registrations, rotations and retirements.
   */
  replaceIdentities(
    identities: readonly IdentityRecord[], engagements: readonly EngagementRecord[], grants: readonly GrantRecord[],
    credentials: readonly CredentialRecord[],
  ): void {
    this.putEngagements(engagements);
    this.putIdentities(identities);
    this.putGrants(grants);
    for (const { id } of identities) this.dropCredentialsOf(id);
    this.putCredentials(credentials);
  }

  private dropCredentialsOf(identityId: string): void {
    for (const fingerprint of this.credentialsOf.get(identityId) ?? []) {
      if (this.credentials.get(fingerprint)?.identityId === identityId) this.credentials.delete(fingerprint);
    }
    this.credentialsOf.delete(identityId);
  }

  /** The grants of one identity for one entitlement: usually one, found by scanning the refs. */
  grantsOf(identity: DecisionIdentity, entitlement: DecisionEntitlement): readonly DecisionGrant[] {
    const held = (identity as IdentityEntry).held;
    const ref = entitlement.ref;
    let found: DecisionGrant[] | undefined;
    for (let i = 0; i < held.length; i += 2) {
      if (held[i] !== ref) continue;
      const grant = held[i + 1] as DecisionGrant;
      if (found) found.push(grant); else found = [grant];
    }
    return found ?? NO_GRANTS;
  }

  /**
   * By id when the reference is UUID-shaped, else by handle, never one then the other: a handle
   * equal to an id (made before migration 0014) must not answer for a reference meant as an id.
   * One hash lookup; the shape test runs only on 36-character references.
   */
  resolveIdentity(ref: string): IdentityEntry | undefined {
    return ref.length === 36 && isUuid(ref) ? this.identities.get(ref) : this.handles.get(ref);
  }

  identityById(id: string): IdentityEntry | undefined {
    return this.identities.get(id);
  }

  entitlement(key: string): EntitlementEntry | undefined {
    return this.entitlementsByKey.get(key);
  }

  /** The entitlement named, or every live entitlement of the system that lists the action. */
  candidates(query: CheckQuery): readonly EntitlementEntry[] {
    if (query.entitlement !== undefined) {
      return this.entitlementsByKey.get(query.entitlement)?.alone ?? NONE;
    }
    if (query.system === undefined || query.action === undefined) return NONE;
    return this.entitlementsByAction.get(query.system)?.get(query.action) ?? NONE;
  }

  /** Everything the pure decision rule needs about one question. */
  facts(query: CheckQuery, now: number, stale: boolean): DecisionFacts {
    const identity = this.resolveIdentity(query.identity);
    let sponsorStatus: DecisionFacts['sponsorStatus'];
    if (identity && isNonEmployee(identity.kind)) {
      sponsorStatus = identity.sponsorId === null ? 'missing' : this.identities.get(identity.sponsorId)?.status ?? 'missing';
    }
    let entitlements = this.candidates(query);
    if (identity && entitlements.length > 1 && !stale) entitlements = this.heldAmong(identity, entitlements);
    const fingerprint = query.context?.credential;
    const credential = fingerprint === undefined ? undefined : this.credentials.get(fingerprint);
    return { identity, entitlements, grants: this, sponsorStatus, stale, context: query.context, credential, now };
  }

  /**
   * Of several candidates (system + action), those the identity holds a grant for, in candidate
   * order; the first candidate alone when it holds none (all would answer no_grant). Only used when
   * the index is fresh: a stale one must still answer index_stale for privileged candidates.
   */
  private heldAmong(identity: IdentityEntry, candidates: readonly EntitlementEntry[]): readonly EntitlementEntry[] {
    const held = identity.held;
    let found: EntitlementEntry[] | undefined;
    for (const candidate of candidates) {
      for (let i = 0; i < held.length; i += 2) {
        if (held[i] === candidate.ref) { if (found) found.push(candidate); else found = [candidate]; break; }
      }
    }
    return found ?? [candidates[0]!];
  }

  sizes(): { identities: number; grants: number; entitlements: number; engagements: number; credentials: number } {
    return {
      identities: this.identities.size, grants: this.grantCount,
      entitlements: this.entitlementsByKey.size, engagements: this.engagements.size, credentials: this.credentials.size,
    };
  }
}
