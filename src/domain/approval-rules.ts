import { TenureError } from './errors.js';

export interface ApprovalAttempt {
  actorId: string;
  requesterId: string;
  beneficiaryId: string;
  /** Everyone who already decided an earlier stage of this request. */
  earlierDeciders: readonly string[];
  /** Who may decide the current stage, computed at the moment of the decision. */
  eligible: readonly string[];
}

/**
 * The rules every approval and denial passes, whatever the path (CLI, API, bulk, on behalf).
 * Self-review is checked first so that the most important refusal is the one reported.
 */
export const checkApprover = (attempt: ApprovalAttempt): void => {
  if (attempt.actorId === attempt.requesterId) {
    throw new TenureError('request.self_approval_forbidden', 'you filed this request, so you cannot decide it');
  }
  if (attempt.actorId === attempt.beneficiaryId) {
    throw new TenureError('request.beneficiary_approval_forbidden', 'this request is for you, so you cannot decide it');
  }
  if (attempt.earlierDeciders.includes(attempt.actorId)) {
    throw new TenureError('request.second_stage_forbidden', 'you already decided an earlier stage of this request');
  }
  if (!attempt.eligible.includes(attempt.actorId)) {
    throw new TenureError('request.not_an_approver', 'you are not an eligible approver of the current stage');
  }
};

/** Who may never approve any stage of a request: the requester and the beneficiary. */
export const excludedFromRequest = (requesterId: string, beneficiaryId: string) =>
  (candidates: readonly string[]): string[] =>
    [...new Set(candidates)].filter((id) => id !== requesterId && id !== beneficiaryId);
