/**
 * The in-memory index the decision point answers from: identities by id and handle (each with its
 * live and recently ended grants, and the engagements those grants belong to), entitlements by id,
 * by key and by `system/action`. Filled in bulk (loader.ts) and patched per identity as the change
 * feed reports changes; every patch is applied synchronously, so an answer never sees half of one.
 */
import type {
  DecisionEngagement, DecisionEntitlement, DecisionFacts, DecisionGrant, DecisionIdentity,
} from '../domain/decision.js';
import { compileConditions, type DecisionContext } from '../domain/decision-conditions.js';
import { isNonEmployee, type IdentityKind, type IdentityStatus, type Tier } from '../domain/model.js';
import type { DecisionSettings } from './policy-attributes.js';

/** Rows as the loader reads them (snake_case, times as epoch milliseconds). */
export interface IdentityRecord { id: string; handle: string; kind: string; status: string; sponsor_id: string | null }
export interface EngagementRecord { id: string; identity_id: string; status: string; starts_at: number; ends_at: number }
export interface GrantRecord {
  id: string; identity_id: string; entitlement_id: string; engagement_id: string | null;
  status: string; starts_at: number; ends_at: number | null;
}
export interface EntitlementRecord { id: string; key: string; system_key: string; tier: string; retired: boolean }

export interface IdentityEntry extends DecisionIdentity {
  handle: string;
  sponsorId: string | null;
  grants: DecisionGrant[];
}

export interface EntitlementEntry extends DecisionEntitlement { systemKey: string; actions: readonly string[] }

/** What is asked: an identity (id or handle) and either an entitlement key or a system and an action. */
export interface CheckQuery {
  identity: string;
  entitlement?: string | undefined;
  system?: string | undefined;
  action?: string | undefined;
  context?: DecisionContext | undefined;
}

const NONE: readonly EntitlementEntry[] = [];

/** A grant pointing at an engagement the index does not hold is treated as outside any open engagement. */
const UNKNOWN_ENGAGEMENT: DecisionEngagement = { id: 'unknown', status: 'unknown', startsAt: Infinity, endsAt: -Infinity };

export class DecisionIndex {
  private readonly identities = new Map<string, IdentityEntry>();
  private readonly handles = new Map<string, IdentityEntry>();
  private readonly engagements = new Map<string, DecisionEngagement>();
  private entitlementsByKey = new Map<string, EntitlementEntry>();
  private entitlementsByAction = new Map<string, EntitlementEntry[]>();
  private grantCount = 0;

  /** Replaces the whole catalogue: entitlements (retired ones are left out) with their actions and conditions. */
  replaceCatalogue(rows: readonly EntitlementRecord[], settings: DecisionSettings | undefined): void {
    const byKey = new Map<string, EntitlementEntry>();
    const byAction = new Map<string, EntitlementEntry[]>();
    for (const row of rows) {
      if (row.retired) continue;
      const attributes = settings?.[row.key];
      const entry: EntitlementEntry = {
        id: row.id, key: row.key, tier: row.tier as Tier, systemKey: row.system_key,
        actions: attributes?.actions ?? [], conditions: compileConditions(attributes?.conditions),
      };
      byKey.set(row.key, entry);
      for (const action of entry.actions) {
        const key = `${row.system_key}/${action}`;
        const list = byAction.get(key);
        if (list) list.push(entry); else byAction.set(key, [entry]);
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
        this.grantCount -= previous.grants.length;
        if (this.handles.get(previous.handle) === previous) this.handles.delete(previous.handle);
      }
      const entry: IdentityEntry = {
        id: row.id, handle: row.handle, kind: row.kind as IdentityKind, status: row.status as IdentityStatus,
        sponsorId: row.sponsor_id, grants: [],
      };
      this.identities.set(row.id, entry);
      this.handles.set(row.handle, entry);
    }
  }

  putEngagements(rows: readonly EngagementRecord[]): void {
    for (const row of rows) {
      this.engagements.set(row.id, { id: row.id, status: row.status, startsAt: row.starts_at, endsAt: row.ends_at });
    }
  }

  /** Adds grants to identities already put (grants of unknown identities are ignored). */
  putGrants(rows: readonly GrantRecord[]): void {
    for (const row of rows) {
      const identity = this.identities.get(row.identity_id);
      if (!identity) continue;
      const engagement = row.engagement_id === null ? null : this.engagements.get(row.engagement_id) ?? UNKNOWN_ENGAGEMENT;
      identity.grants.push({
        id: row.id, entitlementId: row.entitlement_id, status: row.status, startsAt: row.starts_at,
        endsAt: row.ends_at ?? Infinity, engagement,
      });
      this.grantCount += 1;
    }
  }

  /**
   * Replaces what is held about some identities with a consistent read of them: new entries are built
   * and swapped in within this one synchronous call, so no answer sees an identity without its grants.
   */
  replaceIdentities(
    identities: readonly IdentityRecord[], engagements: readonly EngagementRecord[], grants: readonly GrantRecord[],
  ): void {
    this.putEngagements(engagements);
    this.putIdentities(identities);
    this.putGrants(grants);
  }

  resolveIdentity(ref: string): IdentityEntry | undefined {
    return this.identities.get(ref) ?? this.handles.get(ref);
  }

  entitlement(key: string): EntitlementEntry | undefined {
    return this.entitlementsByKey.get(key);
  }

  /** The entitlement named, or every live entitlement of the system that lists the action. */
  candidates(query: CheckQuery): readonly EntitlementEntry[] {
    if (query.entitlement !== undefined) {
      const entry = this.entitlementsByKey.get(query.entitlement);
      return entry ? [entry] : NONE;
    }
    if (query.system === undefined || query.action === undefined) return NONE;
    return this.entitlementsByAction.get(`${query.system}/${query.action}`) ?? NONE;
  }

  /** Everything the pure decision rule needs about one question. */
  facts(query: CheckQuery, now: number, stale: boolean): DecisionFacts {
    const identity = this.resolveIdentity(query.identity);
    let sponsorStatus: DecisionFacts['sponsorStatus'];
    if (identity && isNonEmployee(identity.kind)) {
      sponsorStatus = identity.sponsorId === null ? 'missing' : this.identities.get(identity.sponsorId)?.status ?? 'missing';
    }
    return { identity, entitlements: this.candidates(query), sponsorStatus, stale, context: query.context, now };
  }

  sizes(): { identities: number; grants: number; entitlements: number; engagements: number } {
    return {
      identities: this.identities.size, grants: this.grantCount,
      entitlements: this.entitlementsByKey.size, engagements: this.engagements.size,
    };
  }
}
