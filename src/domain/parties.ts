/**
 * Four eyes means two different parties, not two different identities. Whoever created an identity
 * can act as it (they chose its e-mail, they could mint its first token), and a service account's
 * owner is the service account when it files something. So, for every decision, the "parties" of
 * what is decided are the identities it concerns plus those who stand behind them; none of them
 * decides. Pure: callers load the identities, this module says who the parties are.
 */

/** What the rule needs to know about an identity. */
export interface PartyIdentity {
  id: string;
  kind: string;
  createdBy?: string | null;
  ownerId: string | null;
}

/** The identity itself, its creator, and, for a service account, its owner. */
export const partiesOfIdentity = (identity: PartyIdentity): string[] => {
  const ids = [identity.id];
  if (identity.createdBy) ids.push(identity.createdBy);
  if (identity.kind === 'service_account' && identity.ownerId) ids.push(identity.ownerId);
  return ids;
};

export interface RequestParties {
  requester: PartyIdentity;
  beneficiary: PartyIdentity;
  /** Who minted the credential the requester filed with, when that was not the requester. */
  requesterIssuerId: string | null;
}

/** Everyone who is a party to a request: requester, beneficiary, the requester's credential issuer, and who stands behind each. */
export const partiesOfRequest = (request: RequestParties): string[] => [...new Set([
  ...partiesOfIdentity(request.requester),
  ...partiesOfIdentity(request.beneficiary),
  ...(request.requesterIssuerId ? [request.requesterIssuerId] : []),
])];

/** A decider: the identity acting, and whoever minted the credential it acts with (when someone else did). */
export interface Decider { id: string; issuedBy?: string | undefined }

/** The identities behind a decision: the actor and the issuer of its credential; both must be outside the parties. */
export const decidingIdentities = (decider: Decider): string[] =>
  decider.issuedBy && decider.issuedBy !== decider.id ? [decider.id, decider.issuedBy] : [decider.id];

/** Which of the deciding identities is a party (undefined when none): the one to name in the refusal. */
export const partyAmongDeciders = (decider: Decider, parties: readonly string[]): string | undefined =>
  decidingIdentities(decider).find((id) => parties.includes(id));

/** Removes every party from a list of candidate approvers (and duplicates). */
export const excludeParties = (parties: readonly string[]) =>
  (candidates: readonly string[]): string[] => [...new Set(candidates)].filter((id) => !parties.includes(id));
