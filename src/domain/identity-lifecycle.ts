import type { IdentityStatus } from './model.js';

/** pending → active → suspended → terminated; suspended may return to active; terminated is final. */
const ALLOWED: Record<IdentityStatus, readonly IdentityStatus[]> = {
  pending: ['active', 'terminated'],
  active: ['suspended', 'terminated'],
  suspended: ['active', 'terminated'],
  terminated: [],
};

export const canTransition = (from: IdentityStatus, to: IdentityStatus): boolean => ALLOWED[from].includes(to);

/** Leaving active status ends what the identity holds: its grants and its pending requests. */
export const endsAccess = (to: IdentityStatus): boolean => to === 'suspended' || to === 'terminated';
