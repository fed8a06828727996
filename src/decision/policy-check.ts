/**
 * The decision point for policy tests: an index read from the transaction where the candidate policy
 * is applied (and rolled back), asked exactly as `POST /v1/check` asks the live one.
 */
import { decide } from '../domain/decision.js';
import type { DecisionChecker } from '../operations/lib/policy-tests/run-case.js';
import { loadIndex } from './loader.js';

export const checkInTransaction: DecisionChecker = async (tx, query, now) => {
  // On a transaction, loadIndex's own transaction becomes a savepoint.
  const { index } = await loadIndex(tx, { endedSince: now });
  const answer = decide(index.facts({ identity: query.identity, entitlement: query.entitlement, context: query.context }, now.getTime(), false));
  return { decision: answer.decision, reason: answer.reason };
};
