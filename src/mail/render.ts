/**
 * The words of each message: a subject, a few lines, and the console page where the person acts.
 * Plain text and HTML come from the same lines; every value in the HTML is escaped, since display
 * names, reasons and summaries are typed by people. A message never carries a token, a secret or
 * a link that decides anything: the link opens the console, which asks the person to sign in.
 */
import type { WebhookEventType } from '../domain/webhook-events.js';

export interface Rendered { subject: string; text: string; html: string }

type Data = Record<string, unknown>;

const str = (value: unknown): string => (value === null || value === undefined || value === '' ? '-' : String(value));
const day = (value: unknown): string => (typeof value === 'string' && value.length >= 16 ? `${value.slice(0, 16).replace('T', ' ')} UTC` : str(value));
const days = (ms: unknown): string => {
  const n = Number(ms);
  return n >= 86_400_000 ? `${Math.round(n / 86_400_000)} day(s)` : `${Math.max(1, Math.round(n / 3_600_000))} hour(s)`;
};

export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => (
  { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));

interface Words { subject: string; lines: string[]; action: string }

const access = (d: Data) => `${str(d.entitlement)} on ${str(d.system)}`;

/** A shared account handed over from its line: whose it was, that the clock runs, and how to give it back. */
const turnWords = (d: Data): Words => {
  const previous = d.previousHolder as Data | null | undefined;
  const how = { revoked: 'was checked in or revoked', expired: 'ended' }[String(previous?.ended)] ?? 'ended';
  return {
    subject: `Your turn: ${access(d)} is yours now`,
    lines: [`${str(d.identity)} now holds the shared account ${access(d)}, until ${day(d.endsAt)}: the check-out began when it came free.`,
      ...(previous ? [`${str(previous.handle)}'s check-out ${how} at ${day(previous.at)}.`] : []),
      `${Number(d.stillWaiting) > 0 ? `${str(d.stillWaiting)} more wait in line after you: ` : ''}check it in when you are done.`],
    action: 'See it under My access:' };
};

/** What each event says; `undefined` for a type that is not mailed. */
const wordsOf = (type: WebhookEventType, d: Data): Words | undefined => {
  switch (type) {
    case 'approval.needed': return {
      subject: `${d.waitingSince ? 'Reminder: approval' : 'Approval'} needed: ${str(d.beneficiary)} asks for ${access(d)}`,
      lines: [`${str(d.requester)} asks for ${access(d)} for ${str(d.beneficiary)}.`, `Reason: ${str(d.justification)}`,
        `Ticket: ${str(d.ticket)}`, `From ${day(d.startsAt)} to ${day(d.endsAt)}.`,
        ...(d.waitingSince ? [`It has waited for you since ${day(d.waitingSince)}.`] : [])],
      action: 'Review it in your inbox (you will be asked to sign in):' };
    case 'request.escalated': {
      const added = Array.isArray(d.escalatedTo) ? d.escalatedTo.map(str) : [];
      return {
        subject: `Escalated: approval needed for ${str(d.beneficiary)}'s ${access(d)}`,
        lines: [`${str(d.requester)} asks for ${access(d)} for ${str(d.beneficiary)}; the ${str((d.stage as Data | undefined)?.kind)} stage has waited since ${day(d.waitingSince)}.`,
          added.length > 0 ? `It is now open to ${added.join(', ')} as well.` : 'No alternate approver could be added: IAM should name alternates for this stage in the policy.',
          `Who may decide it: ${Array.isArray(d.approvers) && d.approvers.length > 0 ? d.approvers.map(str).join(', ') : '-'}.`,
          `Reason: ${str(d.justification)}`],
        action: 'Review it in your inbox (you will be asked to sign in):' };
    }
    case 'grant.activated': return {
      subject: `Access granted: ${access(d)}`,
      lines: [`${str(d.identity)} now holds ${access(d)}, until ${day(d.endsAt)}.`], action: 'See it under My access:' };
    case 'request.denied': case 'request.cancelled': case 'request.expired': {
      const what = { 'request.denied': 'was denied', 'request.cancelled': 'was cancelled', 'request.expired': 'lapsed undecided' }[type];
      return { subject: `Request ${what}: ${access(d)}`, lines: [`The request for ${access(d)} for ${str(d.beneficiary)} ${what}.`,
        `Reason: ${str(d.reason)}`], action: 'See your access and requests:' };
    }
    case 'grant.expiring_soon': return {
      subject: `Access ends in ${days(d.noticeBeforeMs)}: ${access(d)}`,
      lines: [`${str(d.identity)}'s ${access(d)} ends at ${day(d.endsAt)}.`, 'If it is still needed, ask for it again before then.'],
      action: 'See it under My access:' };
    case 'grant.revoked': return {
      subject: `Access revoked: ${access(d)}`, lines: [`${str(d.identity)}'s ${access(d)} was revoked.`, `Reason: ${str(d.reason)}`],
      action: 'See your access:' };
    case 'review.item_assigned': return {
      subject: `${d.reminder ? 'Reminder: review due' : 'Review assigned'}: ${str(d.identity)}'s ${str(d.entitlement)}`,
      lines: [`Campaign "${str(d.campaign)}" asks you to review ${str(d.identity)}'s ${str(d.entitlement)}.`, `Due: ${day(d.dueAt)}.`,
        ...(d.reminder ? ['Undecided by then, the campaign\'s default decides it.'] : [])],
      action: 'Decide it under Reviews:' };
    case 'finding.opened': return {
      subject: `Finding (${str(d.severity)}): ${str(d.kind)}${d.system ? ` on ${str(d.system)}` : ''}`,
      lines: [str(d.summary), `Due: ${day(d.dueAt)}.`], action: 'See it under Findings:' };
    case 'engagement.expiring_soon': return {
      subject: `Engagement ends in ${days(d.noticeBeforeMs)}: ${str(d.identity)} (${str(d.vendor)})`,
      lines: [`The engagement of ${str(d.identity)} with ${str(d.vendor)} (${str(d.purpose)}) ends at ${day(d.endsAt)}.`,
        'Renew it if the work goes on; otherwise their access ends with it.'], action: 'See the engagement:' };
    case 'breakglass.activated': return {
      subject: `URGENT: break-glass access taken by ${str(d.identity)} on ${str(d.system)}`,
      lines: [`${str(d.identity)} took emergency access ${access(d)}.`, `Incident: ${str(d.incident)}`, `Reason: ${str(d.reason)}`,
        `Its review is due ${day(d.reviewDueAt)}.`], action: 'Review it under Break-glass:' };
    case 'shared_account.turn': return turnWords(d);
    default: return undefined;
  }
};

export interface RenderInput {
  type: WebhookEventType;
  data: Data;
  /** The person the mail is addressed to, and why when it is someone else's mail. */
  greeting: string;
  onBehalfOf?: string | undefined;
  link: string;
}

const onBehalf = (who: string | undefined) => (who ? `You receive this because ${who} has no e-mail address in Tenure.` : undefined);

export const renderMessage = (input: RenderInput): Rendered | undefined => {
  const words = wordsOf(input.type, input.data);
  if (!words) return undefined;
  const note = onBehalf(input.onBehalfOf);
  const lines = [`Hello ${input.greeting},`, '', ...(note ? [note, ''] : []), ...words.lines, '', words.action, input.link, '', '-- Tenure'];
  const text = `${lines.join('\n')}\n`;
  const body = [`<p>Hello ${escapeHtml(input.greeting)},</p>`, ...(note ? [`<p><em>${escapeHtml(note)}</em></p>`] : []),
    ...words.lines.map((l) => `<p>${escapeHtml(l)}</p>`),
    `<p>${escapeHtml(words.action)} <a href="${escapeHtml(input.link)}">${escapeHtml(input.link)}</a></p>`, '<p>-- Tenure</p>'];
  return { subject: words.subject.replace(/[\r\n]+/g, ' '), text, html: `<!doctype html><html><body>${body.join('')}</body></html>` };
};

/** A daily digest: the subjects and texts of the day's messages in one, each with its own link. */
export const renderDigest = (items: Rendered[]): Rendered => {
  const subject = `Tenure: ${items.length} notification(s) today`;
  const text = ['Hello,', '', `${items.length} thing(s) for you from Tenure:`, '',
    ...items.map((m) => `== ${m.subject}\n${m.text.split('\n').slice(2).join('\n')}`)].join('\n');
  const html = `<!doctype html><html><body><p>Hello,</p>${items.map((m) =>
    `<h3>${escapeHtml(m.subject)}</h3>${m.html.replace(/^.*?<body><p>[^<]*<\/p>/, '').replace(/<\/body><\/html>$/, '')}`).join('<hr>')}</body></html>`;
  return { subject, text, html };
};
