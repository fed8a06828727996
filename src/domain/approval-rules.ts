import type { BrokenApproverRule } from './approver-rules.js';
import { TenureError } from './errors.js';
import { excludeParties } from './parties.js';

export interface ApprovalAttempt {
  actorId: string;
  /** Who minted the credential the actor decides with, when someone else did: held to the same rules. */
  issuedBy?: string | undefined;
  requesterId: string;
  beneficiaryId: string;
  /** Every party to the request (see parties.ts); the requester and beneficiary are always among them. */
  parties?: readonly string[];
  /** Everyone who already decided an earlier stage of this request. */
  earlierDeciders: readonly string[];
  /** Who may decide the current stage, computed at the moment of the decision. */
  eligible: readonly string[];
  /** The approver rule (approval.rules) that keeps the actor from this stage, if one does. */
  ruleBroken?: BrokenApproverRule | undefined;
}

const partyRefusal = (attempt: ApprovalAttempt): TenureError | undefined => {
  const parties = attempt.parties ?? [];
  if (parties.includes(attempt.actorId)) {
    return new TenureError('request.party_approval_forbidden',
      'you created or own the requester or the beneficiary of this request, or minted the credential it was filed with, so you cannot decide it');
  }
  const issuer = attempt.issuedBy;
  if (issuer && issuer !== attempt.actorId && [attempt.requesterId, attempt.beneficiaryId, ...parties].includes(issuer)) {
    return new TenureError('request.party_approval_forbidden',
      'the credential you act with was minted by a party to this request, so it cannot decide it');
  }
  return undefined;
};

/**
 * The rules every approval and denial passes, whatever the path (CLI, API, bulk, on behalf).
 * Self-review is checked first so that the most important refusal is the one reported; then the
 * other parties (creator, owner, credential issuer), then the same rules for the decider's issuer,
 * then the policy's rules about who may approve whom, and last whether the stage is theirs at all.
 */
export const checkApprover = (attempt: ApprovalAttempt): void => {
  if (attempt.actorId === attempt.requesterId) {
    throw new TenureError('request.self_approval_forbidden', 'you filed this request, so you cannot decide it');
  }
  if (attempt.actorId === attempt.beneficiaryId) {
    throw new TenureError('request.beneficiary_approval_forbidden', 'this request is for you, so you cannot decide it');
  }
  const party = partyRefusal(attempt);
  if (party) throw party;
  const deciders = attempt.issuedBy ? [attempt.actorId, attempt.issuedBy] : [attempt.actorId];
  if (deciders.some((id) => attempt.earlierDeciders.includes(id))) {
    throw new TenureError('request.second_stage_forbidden', 'you (or whoever minted your credential) already decided an earlier stage of this request');
  }
  if (attempt.ruleBroken) {
    throw new TenureError('request.approver_rule_forbidden', `${attempt.ruleBroken.reason} (policy approval.rules.${attempt.ruleBroken.rule})`);
  }
  if (!attempt.eligible.includes(attempt.actorId)) {
    throw new TenureError('request.not_an_approver', 'you are not an eligible approver of the current stage');
  }
};

/** Who may never approve any stage of a request: the requester, the beneficiary and every other party to it. */
export const excludedFromRequest = (requesterId: string, beneficiaryId: string, parties: readonly string[] = []) =>
  excludeParties([requesterId, beneficiaryId, ...parties]);
