/**
 * The evidence pack as one self-contained HTML page an auditor can open, print to PDF and file.
 * Every value is escaped (reasons and comments are free text typed by people), and the page loads
 * nothing from anywhere: no script, no external style.
 */
import type { EvidencePack } from '../operations/build-evidence-pack.js';

const escape = (value: unknown): string => {
  const text = value === null || value === undefined ? '' : value instanceof Date ? value.toISOString()
    : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
};

const table = (headers: string[], rows: unknown[][]): string => rows.length === 0 ? '<p class="none">None.</p>' : [
  '<table>', `<tr>${headers.map((h) => `<th>${escape(h)}</th>`).join('')}</tr>`,
  ...rows.map((row) => `<tr>${row.map((cell) => `<td>${escape(cell)}</td>`).join('')}</tr>`), '</table>',
].join('\n');

const SECTION_TITLES: Record<string, string> = {
  contract: 'Contract, engagements and service accounts', requests: 'Requests', approvals: 'Approvals (approver and stage)', grants: 'Grants and extensions', reviews: 'Break-glass and reviews',
  removals: 'Expiries, revocations and their confirmation in the target', findings: 'Findings', sessions: 'Sessions through the access proxy (audit events)',
};

type Item = EvidencePack['timeline'][number];
/** Who acted, and who minted the token they acted with when that was someone else. */
const actedBy = (e: Item): string => e.issuedBy ? `${e.actor} via token issued by ${e.issuedBy}` : e.actor;
const eventRows = (items: Item[]) => items.map((e) => [e.seq, e.at, e.action, actedBy(e), e.identity, e.subject.id, e.reason ?? '', e.ticket ?? '',
  e.after, e.hash.slice(0, 16)]);

const sessionTable = (sessions: EvidencePack['proxySessions']): string =>
  table(['session', 'person', 'entitlement', 'account', 'started', 'ended', 'why', 'statements', 'recording SHA-256', 'recording matches'],
    sessions.map((s) => [s.id, s.person, s.entitlement, s.account, s.startedAt, s.endedAt, s.endReason, s.statements, s.recordingSha256,
      s.verified === null ? 'open' : s.verified === 'purged' ? 'purged by retention' : s.verified ? 'yes' : 'NO']));

export const renderEvidenceHtml = (pack: EvidencePack): string => [
  '<!doctype html>', '<html lang="en"><head><meta charset="utf-8">', `<title>Tenure evidence: ${escape(pack.title)}</title>`,
  '<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}',
  'th,td{border:1px solid #999;padding:3px 6px;text-align:left;vertical-align:top;font-size:12px}th{background:#eee}.none{color:#555}</style>',
  '</head><body>',
  `<h1>Evidence: ${escape(pack.title)}</h1>`,
  `<p>Generated ${escape(pack.generatedAt)} by ${escape(pack.generatedBy)}. Audit chain head: event ${escape(pack.chainHead?.seq)},`,
  ` hash <code>${escape(pack.chainHead?.hash)}</code>. Each event below shows its position and the start of its hash; check them with`,
  ' <code>tenure audit verify</code> and the signed checkpoints.</p>',
  '<h2>Grants</h2>',
  table(['grant', 'identity', 'entitlement', 'origin', 'status', 'starts', 'ends', 'ended', 'why', 'in the target', 'confirmed', 'confirmation'],
    pack.grants.map((g) => [g.id, g.identity, g.entitlement, g.origin, g.status, g.startsAt, g.endsAt, g.endedAt, g.endReason, g.provisioningState,
      g.provisioningConfirmedAt, g.provisioningEvidence])),
  ...(pack.proxySessions.some((s) => s.sharedAccount) ? ['<h2>Sessions on shared accounts</h2>',
    '<p>Each is the only record of which person used an account that belongs to no one.</p>',
    sessionTable(pack.proxySessions.filter((s) => s.sharedAccount))] : []),
  '<h2>Recorded sessions</h2>',
  sessionTable(pack.proxySessions.filter((s) => !s.sharedAccount)),
  ...Object.entries(pack.sections).flatMap(([name, items]) => [
    `<h2>${escape(SECTION_TITLES[name] ?? name)}</h2>`,
    table(['seq', 'at', 'action', 'by', 'identity', 'subject', 'reason', 'ticket', 'after', 'hash'], eventRows(items)),
  ]),
  '</body></html>', '',
].join('\n');
