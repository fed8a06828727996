/** The filters audit search and export share: names resolved to ids, and nothing that matches silently nothing. */
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { AUDIT_EVENT_TYPES } from '../../audit/event-types.js';
import type { AuditFilters } from '../../audit/search.js';
import { TenureError } from '../../domain/errors.js';
import { isUuid } from '../../domain/ids.js';
import type { Executor } from '../../store/database.js';
import { findIdentity } from '../../store/queries/identities.js';
import { systems } from '../../store/schema.js';
import { instant, ref } from '../input.js';

const action = z.enum(AUDIT_EVENT_TYPES);

/** Filters as callers name things: identities by handle or id, systems by key or id. */
export const FilterInput = z.object({
  identity: ref.optional(),
  system: ref.optional(),
  action: z.union([action, z.array(action).min(1)]).optional(),
  actor: ref.optional(),
  from: instant.optional(),
  to: instant.optional(),
  afterSeq: z.number().int().min(0).optional(),
  beforeSeq: z.number().int().min(1).optional(),
});

const findSystemId = async (exec: Executor, key: string): Promise<string> => {
  const [row] = await exec.select({ id: systems.id }).from(systems)
    .where(isUuid(key) ? eq(systems.id, key) : eq(systems.key, key));
  if (!row) throw new TenureError('system.not_found', `no system '${key}'`, { field: 'system' });
  return row.id;
};

/** Resolves names to ids; a name that matches nothing is refused rather than silently matching nothing. */
export const resolveFilters = async (exec: Executor, input: z.infer<typeof FilterInput>): Promise<AuditFilters> => {
  if (input.from && input.to && input.from.getTime() >= input.to.getTime()) {
    throw new TenureError('input.invalid', 'to: must be after from', { field: 'to' });
  }
  return {
    identityId: input.identity === undefined ? undefined : (await findIdentity(exec, input.identity)).id,
    systemId: input.system === undefined ? undefined : await findSystemId(exec, input.system),
    actorId: input.actor === undefined ? undefined : (await findIdentity(exec, input.actor, 'actor')).id,
    action: input.action,
    from: input.from,
    to: input.to,
    afterSeq: input.afterSeq,
    beforeSeq: input.beforeSeq,
  };
};
