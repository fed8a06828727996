import { Alert, Badge, Button, Card, Checkbox, Group, Stack, Text, Textarea, Title } from '@mantine/core';
import { useId, useState, type FormEvent } from 'react';
import { api, fieldError, problemOf, unwrap, type Problem, type RequestView } from '../api/client';
import { humanDuration } from './duration-text';
import { BeneficiaryContext } from './BeneficiaryContext';
import { requestName, type Decision } from './decision-text';
import { ProblemAlert } from './PageState';
import { StageList } from './StageList';
import { TierBadge } from './TierBadge';
import { When } from './When';

interface Props {
  request: RequestView;
  selected: boolean;
  onSelect: (on: boolean) => void;
  onDecided: (verdict: 'Approved' | 'Denied', decision?: Decision) => void;
}

/** One waiting request: who, what, why, the window, warnings, the beneficiary's standing; approve or deny with a comment. */
export const InboxItem = ({ request, selected, onSelect, onDecided }: Props) => {
  const headingId = useId();
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();

  const decide = async (verdict: 'approve' | 'deny') => {
    setBusy(true);
    setProblem(undefined);
    try {
      const text = comment.trim();
      if (verdict === 'approve') {
        onDecided('Approved', await unwrap(api.POST('/v1/requests/{request}/approve', { params: { path: { request: request.id } }, body: text ? { comment: text } : {} })));
      } else {
        await unwrap(api.POST('/v1/requests/{request}/deny', { params: { path: { request: request.id } }, body: { reason: text } }));
        onDecided('Denied');
      }
    } catch (error) {
      // The comment stays as typed: only the problem is shown.
      setProblem(problemOf(error));
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => { event.preventDefault(); void decide('approve'); };
  const commentError = fieldError(problem, 'comment', 'reason');

  return (
    <Card withBorder component="section" aria-labelledby={headingId} padding="md">
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap">
          <Title order={2} size="h4" id={headingId}>{requestName(request)}</Title>
          <Group gap="xs"><TierBadge tier={request.tier} /><Badge variant="light">{request.kind}</Badge></Group>
        </Group>
        {request.outOfScope && <Alert color="orange" role="note" title="Out of engagement scope">Security approves this exception as an extra stage.</Alert>}
        {request.warnings.map((w) => (
          <Alert key={w.code} color="red" role="note" title="Separation of duties">{`${request.beneficiary ?? 'The beneficiary'} ${w.message}.`}</Alert>
        ))}
        <Text size="sm"><b>Requested by</b> {request.requester ?? '?'} on <When at={request.createdAt} /></Text>
        <Text size="sm"><b>Why</b> {request.justification}</Text>
        <Text size="sm"><b>Ticket</b> {request.ticket ?? '—'}</Text>
        {request.durationMs
          ? <Text size="sm"><b>Window</b> {humanDuration(request.durationMs)} from the final approval</Text>
          : <Text size="sm"><b>Window</b> <When at={request.startsAt} /> → <When at={request.endsAt} /></Text>}
        <Text size="sm"><b>Waits until</b> <When at={request.expiresAt} /></Text>
        <StageList stages={request.stages} />
        {request.beneficiary && <BeneficiaryContext handle={request.beneficiary} entitlement={request.entitlement} />}
        <form onSubmit={submit}>
          <Stack gap="xs">
            <Textarea label="Comment" description="Required to deny; kept in the audit log" value={comment} autosize minRows={2}
              onChange={(e) => setComment(e.currentTarget.value)} error={commentError}
              onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) submit(e); }} />
            {problem && !commentError && <ProblemAlert problem={problem} />}
            <Group justify="space-between" wrap="wrap">
              <Checkbox label="Include in bulk approval" checked={selected} onChange={(e) => onSelect(e.currentTarget.checked)} />
              <Group gap="xs">
                <Button type="button" color="red" variant="outline" loading={busy} onClick={() => void decide('deny')}>Deny</Button>
                <Button type="submit" color="green" loading={busy}>Approve</Button>
              </Group>
            </Group>
          </Stack>
        </form>
      </Stack>
    </Card>
  );
};
