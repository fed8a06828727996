import { allows, type Permission } from '../../../src/domain/permissions';
import type { Me } from './client';

/**
 * The same table the API enforces (src/domain/permissions.ts), imported rather than copied, so the
 * console hides exactly what the API would refuse. Hiding is for clarity; the API refuses anyway.
 */
export const can = (me: Me, permission: Permission): boolean => allows(me.roles, permission);

export type { Permission };
