import { Badge, Button, Card, Group, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useId, useState } from 'react';
import { api, fieldError, problemOf, unwrap, type Problem, type ReviewItem } from '../api/client';
import { ProblemAlert } from './PageState';
import { StatusBadge, TierBadge } from './TierBadge';
import { When } from './When';

type Decision = 'keep' | 'revoke' | 'shorten';

/** One grant under review with its evidence: who holds it, how it was approved, when it was last used. */
export const ReviewItemCard = ({ item, onDecided }: { item: ReviewItem; onDecided: (notice: string) => void }) => {
  const headingId = useId();
  const [comment, setComment] = useState('');
  const [endsAt, setEndsAt] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const e = item.evidence;
  const decide = async (decision: Decision) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await unwrap(api.POST('/v1/reviews/items/{item}/decide', { params: { path: { item: item.id } }, body: {
        decision, comment, ...(decision === 'shorten' && endsAt ? { endsAt: new Date(endsAt).toISOString() } : {}),
      } }));
      onDecided(`${e.holder.handle} · ${e.entitlement}: ${decision === 'keep' ? 'kept' : decision === 'revoke' ? 'revoked' : 'shortened'}`);
    } catch (error) {
      setProblem(problemOf(error));
      setBusy(false);
    }
  };
  const commentError = fieldError(problem, 'comment');
  const endError = fieldError(problem, 'endsAt');
  return (
    <Card withBorder component="section" aria-labelledby={headingId}>
      <Stack gap={6}>
        <Group justify="space-between">
          <Title order={2} size="h4" id={headingId}>{`${e.holder.handle} · ${e.entitlement}`}</Title>
          <Group gap="xs"><TierBadge tier={e.tier} />{item.overdue && <Badge color="red">overdue</Badge>}<StatusBadge status={item.status} /></Group>
        </Group>
        <Text size="sm"><b>Campaign</b> {item.campaign} ({item.trigger}), due <When at={item.dueAt} />; with no answer: {item.undecided}</Text>
        <Text size="sm"><b>Holder</b> {e.holder.handle} ({e.holder.kind}) · granted <When at={e.grantedAt} /> ({e.origin}) · ends <When at={e.endsAt} /></Text>
        <Text size="sm"><b>Approved by</b> {e.approvals.map((a) => `${a.stage}: ${a.approver ?? '—'}`).join(', ') || '—'}</Text>
        {e.engagement && <Text size="sm"><b>Engagement</b> {e.engagement.purpose}, ends <When at={e.engagement.endsAt} /></Text>}
        <Text size="sm"><b>Last used</b> {e.lastUsedAt ? <When at={e.lastUsedAt} /> : 'never seen by the decision point'}</Text>
        {item.status === 'pending' ? (
          <form onSubmit={(ev) => { ev.preventDefault(); void decide('keep'); }}>
            <Stack gap="xs">
              <Textarea label="Comment" required autosize minRows={1} value={comment} onChange={(ev) => setComment(ev.currentTarget.value)} error={commentError} />
              <TextInput label="New end (to shorten)" type="datetime-local" value={endsAt} onChange={(ev) => setEndsAt(ev.currentTarget.value)} error={endError} />
              {problem && !commentError && !endError && <ProblemAlert problem={problem} />}
              <Group gap="xs">
                <Button type="submit" color="green" loading={busy}>Keep</Button>
                <Button color="red" variant="outline" loading={busy} onClick={() => void decide('revoke')}>Revoke</Button>
                <Button variant="default" loading={busy} disabled={!endsAt} onClick={() => void decide('shorten')}>Shorten</Button>
              </Group>
            </Stack>
          </form>
        ) : (
          <Text size="sm"><b>Decided</b> by {item.decidedBy ?? 'default'} <When at={item.decidedAt} />{item.comment ? `: “${item.comment}”` : ''}</Text>
        )}
      </Stack>
    </Card>
  );
};
