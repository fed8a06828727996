/**
 * Which grants a campaign covers, as a condition over `grants`. Sub-selects rather than joins so the
 * condition can be used by every query `openCampaign` makes, whatever else each one joins.
 */
import { and, eq, ne, sql, type SQL } from 'drizzle-orm';
import { TenureError } from '../../../domain/errors.js';
import { isUuid } from '../../../domain/ids.js';
import type { CampaignScope } from '../../../domain/reviews.js';
import type { Executor } from '../../../store/database.js';
import { engagements, entitlements, grants, identities, systems } from '../../../store/schema.js';

export interface ScopeAsked { grants: CampaignScope; system?: string | null | undefined; engagement?: string | null | undefined }

/** The scope as asked, checked: a system or an engagement is named exactly when the scope needs it. */
const checkNamed = (asked: ScopeAsked): void => {
  for (const [field, needed] of [['system', asked.grants === 'system'], ['engagement', asked.grants === 'engagement']] as const) {
    const named = !!asked[field];
    if (named !== needed) {
      throw new TenureError('input.invalid', needed ? `${field}: required with the ${asked.grants} scope` : `${field}: only with the ${field} scope`, { field });
    }
  }
};

const systemCondition = async (exec: Executor, key: string): Promise<SQL> => {
  const [system] = await exec.select({ id: systems.id }).from(systems).where(eq(systems.key, key));
  if (!system) throw new TenureError('system.not_found', `no system '${key}'`, { field: 'system' });
  return sql`${grants.entitlementId} in (select ${entitlements.id} from ${entitlements} where ${entitlements.systemId} = ${system.id})`;
};

const engagementCondition = async (exec: Executor, id: string): Promise<SQL> => {
  const [engagement] = isUuid(id) ? await exec.select({ id: engagements.id }).from(engagements).where(eq(engagements.id, id)) : [];
  if (!engagement) throw new TenureError('engagement.not_found', `no engagement '${id}'`, { field: 'engagement' });
  return eq(grants.engagementId, engagement.id);
};

/**
 * The grants a scope names. Break-glass grants are left out: each already has its own review after
 * use, due within a day, and lasts a few hours at most.
 */
export const scopeCondition = async (exec: Executor, asked: ScopeAsked): Promise<SQL> => {
  checkNamed(asked);
  const notBreakGlass = ne(grants.origin, 'break_glass');
  switch (asked.grants) {
    case 'non_employee':
      return and(notBreakGlass,
        sql`${grants.identityId} in (select ${identities.id} from ${identities} where ${identities.kind} in ('contractor', 'vendor_operator'))`)!;
    case 'privileged':
      return and(notBreakGlass,
        sql`${grants.entitlementId} in (select ${entitlements.id} from ${entitlements} where ${entitlements.tier} = 'privileged')`)!;
    case 'system':
      return and(notBreakGlass, await systemCondition(exec, asked.system!))!;
    case 'engagement':
      return and(notBreakGlass, await engagementCondition(exec, asked.engagement!))!;
    case 'all':
      return notBreakGlass;
  }
};
