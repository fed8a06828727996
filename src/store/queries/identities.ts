import { asc, eq, inArray } from 'drizzle-orm';
import { TenureError } from '../../domain/errors.js';
import { isUuid } from '../../domain/ids.js';
import type { Role } from '../../domain/model.js';
import type { Executor } from '../database.js';
import { identities, roleAssignments } from '../schema.js';

export type Identity = typeof identities.$inferSelect;

/**
 * An identity by id (when `ref` is UUID-shaped) or else by handle, never either: a handle equal to
 * another identity's id would otherwise make one reference name two people. `field` names the input
 * at fault when it is not found.
 */
export const findIdentity = async (exec: Executor, ref: string, field = 'identity'): Promise<Identity> => {
  const where = isUuid(ref) ? eq(identities.id, ref) : eq(identities.handle, ref);
  const [row] = await exec.select().from(identities).where(where);
  if (!row) throw new TenureError('identity.not_found', `no identity '${ref}'`, { field });
  return row;
};

export const findIdentityById = async (exec: Executor, id: string): Promise<Identity | undefined> => {
  const [row] = await exec.select().from(identities).where(eq(identities.id, id));
  return row;
};

/**
 * Locks the identity row: status changes, requests, decisions and every grant issued to the person
 * serialise here (the first lock of the lock order written beside `inTransaction`).
 */
export const lockIdentity = async (exec: Executor, id: string): Promise<Identity> => {
  const [row] = await exec.select().from(identities).where(eq(identities.id, id)).for('update');
  if (!row) throw new TenureError('identity.not_found', `no identity '${id}'`);
  return row;
};

/** Locks several identities in ascending id order (the lock order's rule for more than one); returns those that exist. */
export const lockIdentities = async (exec: Executor, ids: readonly string[]): Promise<Identity[]> => {
  if (ids.length === 0) return [];
  return await exec.select().from(identities).where(inArray(identities.id, [...new Set(ids)]))
    .orderBy(asc(identities.id)).for('update');
};

export const activeIds = async (exec: Executor, ids: readonly string[]): Promise<string[]> => {
  if (ids.length === 0) return [];
  const rows = await exec.select({ id: identities.id, status: identities.status }).from(identities)
    .where(inArray(identities.id, [...ids]));
  return rows.filter((r) => r.status === 'active').map((r) => r.id);
};

export const holdersOfRole = async (exec: Executor, role: Role): Promise<string[]> => {
  const rows = await exec.select({ id: roleAssignments.identityId }).from(roleAssignments)
    .where(eq(roleAssignments.role, role));
  return activeIds(exec, [...new Set(rows.map((r) => r.id))]);
};

export const handlesById = async (exec: Executor, ids: readonly string[]): Promise<Map<string, string>> => {
  const unique = [...new Set(ids)].filter(Boolean);
  if (unique.length === 0) return new Map();
  const rows = await exec.select({ id: identities.id, handle: identities.handle }).from(identities)
    .where(inArray(identities.id, unique));
  return new Map(rows.map((r) => [r.id, r.handle]));
};
