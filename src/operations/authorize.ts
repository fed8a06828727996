/**
 * Authorisation, decided here and nowhere else: every use case and the HTTP edge ask this module,
 * so there is one rule to read and one refusal to expect.
 *
 * Deny by default: an actor may do only what a role of theirs grants (PERMISSIONS) or what their
 * own part in the object allows (holder, reviewer, sponsor: the use case says which), and a missing
 * or inactive actor is refused before anything else is read.
 *
 * Outsiders get not-found: someone with no part in an object and no right to read every such object
 * is told it does not exist, exactly as for an unknown id, so ids cannot be probed for. Only someone
 * who may see it learns that they may not act on it (actor.forbidden).
 */
import { eq, getTableColumns, sql } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import type { IdentityRow } from '../domain/model.js';
import { allows, type Permission } from '../domain/permissions.js';
import type { Executor } from '../store/database.js';
import { identities, roleAssignments } from '../store/schema.js';
import type { Context, Work } from '../work/context.js';

export interface ActingIdentity { identity: IdentityRow; roles: string[] }

/** Loads the actor and its roles; a missing or inactive actor is refused before anything else. */
export const loadActor = async (exec: Executor, actorId: string | undefined): Promise<ActingIdentity> => {
  if (!actorId) throw new TenureError('actor.required', 'name the acting identity with --as or TENURE_ACTOR');
  // The roles come with the identity, in one round trip: every use case starts here.
  const [row] = await exec.select({ ...getTableColumns(identities),
    roles: sql<string[]>`array(select ${roleAssignments.role} from ${roleAssignments} where ${roleAssignments.identityId} = ${identities.id})` })
    .from(identities).where(eq(identities.id, actorId));
  if (!row) throw new TenureError('actor.required', `the acting identity ${actorId} does not exist`);
  const { roles, ...identity } = row;
  if (identity.status !== 'active') {
    throw new TenureError('actor.inactive', `the acting identity ${identity.handle} is ${identity.status}`);
  }
  return { identity, roles: [...new Set(roles)] };
};

/** Whether the actor holds `permission`: for scoping what a list or a view shows, never to refuse by hand. */
export const may = (acting: ActingIdentity, permission: Permission): boolean => allows(acting.roles, permission);

const forbidden = (message: string, field: string | undefined) =>
  new TenureError('actor.forbidden', message, field === undefined ? {} : { field });

/** Refuses an actor who holds no role that grants `permission`, always as "<handle> may not <permission>". */
export const requirePermission = (acting: ActingIdentity, permission: Permission, field?: string): void => {
  if (!may(acting, permission)) throw forbidden(`${acting.identity.handle} may not ${permission}`, field);
};

/** The actor of a unit of work (read in its transaction) or of a read (on the database), if it holds `permission`. */
export const authorize = async (scope: Work | Context, permission: Permission): Promise<ActingIdentity> => {
  const acting = 'tx' in scope ? await loadActor(scope.tx, scope.actor.id) : await loadActor(scope.store.db, scope.actor.id);
  requirePermission(acting, permission);
  return acting;
};

/**
 * Visible or not found: an actor `involved` with the object (their own, theirs to decide, theirs
 * to answer for), or holding `readAll`, sees it; anyone else gets `notFound`, the very error an
 * unknown id gets.
 */
export const requireVisible = (acting: ActingIdentity, involved: boolean, readAll: Permission, notFound: () => TenureError): void => {
  if (!involved && !may(acting, readAll)) throw notFound();
};

/**
 * A rule of the actor's part in the object rather than of a role (only the assigned reviewer, the
 * owner, not oneself): `refusal` says who may, since a role name would not.
 */
export const refuseUnless = (allowed: boolean, refusal: string, field?: string): void => {
  if (!allowed) throw forbidden(refusal, field);
};

export interface ActOn {
  /** The actor may do this to this object: their part in it, or a permission over all of them. */
  allowed: boolean;
  /** Who holds it may see every such object, so is told they may not act rather than that it does not exist. */
  readAll: Permission;
  notFound: () => TenureError;
  refusal: string;
  field?: string;
}

/** Acting on an object: allowed goes on; an outsider gets not-found; someone who may see it, actor.forbidden. */
export const requireMayAct = (acting: ActingIdentity, rule: ActOn): void => {
  requireVisible(acting, rule.allowed, rule.readAll, rule.notFound);
  refuseUnless(rule.allowed, rule.refusal, rule.field);
};

/**
 * Decisions are made by people: approving, denying, reviewing, confirming a manual removal, letting
 * held revocations go, accepting a finding. A service account, or a token of one, is refused here
 * whatever roles it holds, so a misconfigured role cannot turn automation into an approver.
 */
export const requirePerson = (acting: ActingIdentity, what: string): void => {
  if (acting.identity.kind === 'service_account') {
    throw new TenureError('actor.not_a_person', `${acting.identity.handle} is a service account: only a person may ${what}`);
  }
};
