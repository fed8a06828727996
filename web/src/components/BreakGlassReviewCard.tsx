import { Alert, Anchor, Badge, Button, Card, Group, List, Stack, Text, Textarea, Title } from '@mantine/core';
import { useId, useState } from 'react';
import { api, fieldError, problemOf, unwrap, type BreakGlassReview, type Problem } from '../api/client';
import { href } from '../router';
import { ProblemAlert } from './PageState';
import { PROTOCOL, VerdictBadge } from './SessionVerdict';
import { StatusBadge } from './TierBadge';
import { When } from './When';

type Session = BreakGlassReview['evidence']['proxySessions'][number];

const SessionLink = ({ session: p }: { session: Session }) => (
  <>
    <Anchor href={href('sessions', p.id)}><When at={p.startedAt} /> {PROTOCOL[p.protocol] ?? p.protocol} as {p.account} on {p.entitlement}</Anchor>
    {' '}· {p.statements ?? 'open'} {p.protocol === 'ssh' ? 'recording lines' : 'statements'} <VerdictBadge verified={p.verified} />
  </>
);

/**
 * Sessions on a shared account come first and apart: the account belongs to no one, so its recording is
 * the only record of who used it. Each names the account and the digest the audit chain holds.
 */
const SharedAccountSessions = ({ sessions }: { sessions: Session[] }) => (sessions.length === 0 ? null : (
  <Alert color="orange" role="note" title={`Used a shared account (${sessions.length} session${sessions.length === 1 ? '' : 's'})`}>
    <List size="sm">{sessions.map((p) => (
      <List.Item key={p.id}>
        <b>{p.account}</b> by {p.person}: <SessionLink session={p} />
        <Text size="xs" ff="monospace" c="dimmed" title="SHA-256 of the recording, as the audit chain holds it">{p.auditedSha256 ?? 'recording still open'}</Text>
      </List.Item>
    ))}</List>
  </Alert>
));

/** A break-glass use with what was done during it; its named reviewer decides whether it was appropriate. */
export const BreakGlassReviewCard = ({ review, mine, onDecided }: { review: BreakGlassReview; mine: boolean; onDecided: () => void }) => {
  const headingId = useId();
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const decide = async (outcome: 'appropriate' | 'inappropriate') => {
    setBusy(true);
    setProblem(undefined);
    try {
      await unwrap(api.POST('/v1/breakglass/reviews/{review}/decide', { params: { path: { review: review.id } }, body: { outcome, comment } }));
      onDecided();
    } catch (error) {
      setProblem(problemOf(error));
      setBusy(false);
    }
  };
  const commentError = fieldError(problem, 'comment');
  const shared = review.evidence.proxySessions.filter((p) => p.sharedAccount);
  const others = review.evidence.proxySessions.filter((p) => !p.sharedAccount);
  return (
    <Card withBorder component="section" aria-labelledby={headingId}>
      <Stack gap={6}>
        <Group justify="space-between">
          <Title order={3} size="h4" id={headingId}>{`${review.identity} · ${review.entitlement}`}</Title>
          <Group gap="xs">{review.overdue && <Badge color="red">overdue</Badge>}<StatusBadge status={review.status} /></Group>
        </Group>
        {review.sodConflict && <Alert color="red" role="note" title="Separation of duties broken in this emergency">{review.sodConflict}</Alert>}
        <Text size="sm"><b>Incident</b> {review.incident} · <b>Reason</b> {review.reason}</Text>
        <Text size="sm"><b>Window</b> <When at={review.startsAt} /> → <When at={review.endsAt} /> · <b>Reviewer</b> {review.reviewer}, due <When at={review.dueAt} /></Text>
        <Text size="sm" fw={700}>During the window</Text>
        <List size="sm">
          {review.evidence.auditEvents.map((e) => <List.Item key={`a${e.seq}`}>#{e.seq} <When at={e.at} /> {e.action} {e.subject.type} {e.reason ?? ''}</List.Item>)}
          {review.evidence.accessEvents.map((e, i) => (
            <List.Item key={`c${i}`}><When at={e.at} /> {e.allowed ? 'allowed' : 'denied'} {e.entitlement ?? e.system ?? ''} {e.action ?? ''} ({e.reason})</List.Item>
          ))}
          {review.evidence.auditEvents.length + review.evidence.accessEvents.length === 0 && <List.Item>Nothing recorded.</List.Item>}
        </List>
        <SharedAccountSessions sessions={shared} />
        {others.length > 0 && (
          <>
            <Text size="sm" fw={700}>Recorded sessions</Text>
            <List size="sm">{others.map((p) => <List.Item key={p.id}><SessionLink session={p} /></List.Item>)}</List>
          </>
        )}
        {review.status === 'pending' && mine ? (
          <form onSubmit={(e) => { e.preventDefault(); void decide('appropriate'); }}>
            <Stack gap="xs">
              <Textarea label="Comment" required autosize minRows={1} value={comment} onChange={(e) => setComment(e.currentTarget.value)} error={commentError} />
              {problem && !commentError && <ProblemAlert problem={problem} />}
              <Group gap="xs">
                <Button type="submit" color="green" loading={busy}>Appropriate</Button>
                <Button color="red" variant="outline" loading={busy} onClick={() => void decide('inappropriate')}>Inappropriate</Button>
              </Group>
            </Stack>
          </form>
        ) : review.status !== 'pending' && <Text size="sm"><b>Decided</b> <When at={review.decidedAt} />{review.comment ? `: “${review.comment}”` : ''}</Text>}
      </Stack>
    </Card>
  );
};
