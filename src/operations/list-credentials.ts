import { and, asc, eq, inArray, or, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { findIdentity } from '../store/queries/identities.js';
import { identities, systems } from '../store/schema.js';
import { credentials } from '../store/schema-credentials.js';
import { CREDENTIAL_STATUSES } from '../domain/credentials.js';
import { loadActor, may } from './authorize.js';
import type { Context } from '../work/context.js';
import { parseInput, ref } from './input.js';

export const Input = z.object({ identity: ref.optional(), status: z.enum(CREDENTIAL_STATUSES).default('active') }).strict();

/** Credentials with their dates, never a secret: mine and my service accounts', or everyone's for IAM, security and auditors. */
export const listCredentials = async (ctx: Context, input: z.input<typeof Input> = {}) => {
  const data = parseInput(Input, input);
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const me = acting.identity.id;
  const filters: (SQL | undefined)[] = [eq(credentials.status, data.status)];
  if (data.identity) filters.push(eq(credentials.identityId, (await findIdentity(exec, data.identity)).id));
  if (!may(acting, 'credential.read_all')) {
    const owned = exec.select({ id: identities.id }).from(identities).where(eq(identities.ownerId, me));
    filters.push(or(eq(credentials.identityId, me), inArray(credentials.identityId, owned)));
  }
  const rows = await exec.select({ c: credentials, handle: identities.handle, system: systems.key }).from(credentials)
    .innerJoin(identities, eq(identities.id, credentials.identityId)).leftJoin(systems, eq(systems.id, credentials.systemId))
    .where(and(...filters)).orderBy(asc(identities.handle), asc(credentials.name));
  return rows.map(({ c, handle, system }) => ({
    id: c.id, identity: handle, system, kind: c.kind, name: c.name, fingerprint: c.fingerprint, status: c.status,
    createdAt: c.createdAt, lastRotatedAt: c.lastRotatedAt, expiresAt: c.expiresAt, lastUsedAt: c.lastUsedAt,
  }));
};
