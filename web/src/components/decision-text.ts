import type { RequestView } from '../api/client';
import { stageLabel } from './StageList';

/** What the API answers to an approval: still pending at a next stage, or approved with a grant. */
export interface Decision { status: string; nextStage?: string | null | undefined; grantId?: string | null | undefined }

/** "carl · payments/read", the name the inbox gives a request. */
export const requestName = (r: RequestView): string => `${r.beneficiary ?? '?'} · ${r.entitlement ?? '?'}`;

/**
 * The inbox's banner after a decision: which request, and where it stands now, so the approver knows
 * whether someone else still has to act: "Approved carl · payments/read: it now waits for the system
 * owner (olivia, tom)", or "…: granted".
 */
export const decisionText = (r: RequestView, verdict: 'Approved' | 'Denied', decision?: Decision): string => {
  const name = requestName(r);
  if (verdict === 'Denied') return `Denied ${name}: the request is closed and ${r.requester ?? 'the requester'} is told why.`;
  if (!decision || decision.status === 'approved') return `Approved ${name}: that was the last stage, the access is granted.`;
  const current = r.stages.findIndex((s) => s.status === 'pending');
  const next = r.stages.slice(current + 1).find((s) => s.kind === decision.nextStage) ?? r.stages[current + 1];
  const who = next && next.approvers.length > 0 ? ` (${next.approvers.join(', ')})` : '';
  return `Approved ${name}: it now waits for the next stage, ${stageLabel(decision.nextStage ?? next?.kind ?? '').toLowerCase()}${who}.`;
};
