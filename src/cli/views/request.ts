/** `tenure request show`: one request as a person reads it, its facts first and then its approval stages. */
import { formatDuration } from '../../domain/durations.js';
import { instant, keyValues, table } from './layout.js';

type When = Date | string | null;

/** What the CLI gets from showRequest, locally (dates) or from the API (ISO strings). */
export interface RequestShown {
  id: string; kind: string; status: string; requester?: string | null; beneficiary?: string | null; entitlement?: string | null;
  tier?: string | null; justification: string; ticket: string | null; startsAt: When; endsAt: When; durationMs?: number | null; outOfScope: boolean;
  expiresAt: When; grantId: string | null; createdAt: When; queuePlace?: number | null; warnings: { code: string; message: string }[];
  stages: { position: number; kind: string; status: string; approvers: string[]; decidedBy?: string | null; decidedAt: When; comment: string | null }[];
}

const ms = (value: When) => (value === null ? NaN : new Date(value).getTime());

const window = (r: RequestShown): string => {
  if (r.status === 'pending' && r.durationMs) return `${formatDuration(r.durationMs, 'words')} from the final approval`;
  const length = ms(r.endsAt) - ms(r.startsAt);
  return `${instant(r.startsAt)} to ${instant(r.endsAt)}${Number.isFinite(length) ? ` (${formatDuration(length, 'words')})` : ''}`;
};

export const renderRequest = (r: RequestShown): string => {
  const facts = keyValues([
    ['status', r.status], ['kind', r.kind],
    ['for', r.beneficiary === r.requester ? `${r.beneficiary ?? ''}` : `${r.beneficiary ?? ''} (asked by ${r.requester ?? '?'})`],
    ['entitlement', `${r.entitlement ?? ''}${r.tier ? ` (${r.tier} tier)` : ''}${r.outOfScope ? ', outside the engagement: security decides too' : ''}`],
    ['reason', r.justification], ['ticket', r.ticket ?? ''], ['window', window(r)],
    ['asked at', instant(r.createdAt)], ['lapses at', r.status === 'pending' ? `${instant(r.expiresAt)} if still undecided` : ''],
    ['in line', r.queuePlace ? (r.queuePlace === 1 ? 'next, for the shared account to be checked in' : `place ${r.queuePlace}, for the shared account to be checked in`) : ''],
    ['grant', r.grantId ?? ''], ...r.warnings.map((w): [string, string] => ['warning', w.message]),
  ]);
  const stages = table(['#', 'stage', 'status', 'who may decide', 'decided by', 'at', 'comment'],
    r.stages.map((s) => [String(s.position + 1), s.kind, s.status, s.approvers.join(', '), s.decidedBy ?? '', instant(s.decidedAt), s.comment ?? '']));
  return `Request ${r.id}\n${facts}\n\nApproval stages, in order:\n${stages}\n`;
};
