import { eq } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import type { IdentityRow } from '../domain/model.js';
import { allows, type Permission } from '../domain/permissions.js';
import type { Executor } from '../store/database.js';
import { identities, roleAssignments } from '../store/schema.js';
import type { Work } from './context.js';

export interface ActingIdentity { identity: IdentityRow; roles: string[] }

/** Loads the actor and its roles; a missing or inactive actor is refused before anything else. */
export const loadActor = async (exec: Executor, actorId: string | undefined): Promise<ActingIdentity> => {
  if (!actorId) throw new TenureError('actor.required', 'name the acting identity with --as or TENURE_ACTOR');
  const [identity] = await exec.select().from(identities).where(eq(identities.id, actorId));
  if (!identity) throw new TenureError('actor.required', `the acting identity ${actorId} does not exist`);
  if (identity.status !== 'active') {
    throw new TenureError('actor.inactive', `the acting identity ${identity.handle} is ${identity.status}`);
  }
  const roles = await exec.select({ role: roleAssignments.role }).from(roleAssignments)
    .where(eq(roleAssignments.identityId, actorId));
  return { identity, roles: [...new Set(roles.map((r) => r.role))] };
};

/** The actor, if it holds a role that grants `permission`; refused otherwise (deny by default). */
export const authorize = async (work: Work, permission: Permission): Promise<ActingIdentity> => {
  const acting = await loadActor(work.tx, work.actor.id);
  if (!allows(acting.roles, permission)) {
    throw new TenureError('actor.forbidden', `${acting.identity.handle} may not ${permission}`);
  }
  return acting;
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
