/** The people who answer for an identity: its sponsor, its manager and (for an NHI) its owner. */
export const answersFor = (identity: { sponsorId: string | null; managerId: string | null; ownerId: string | null }, personId: string): boolean =>
  [identity.sponsorId, identity.managerId, identity.ownerId].includes(personId);
