import { Alert, SegmentedControl, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { api, unwrap, type Me } from '../api/client';
import { can } from '../api/permissions';
import { useApi } from '../api/use-api';
import { CampaignForm } from '../components/CampaignForm';
import { PageState } from '../components/PageState';
import { ReviewItemCard } from '../components/ReviewItemCard';

/** My review items with their evidence: keep, revoke or shorten in a few clicks, always with a comment. */
export const ReviewsPage = ({ me }: { me: Me }) => {
  const [status, setStatus] = useState<'pending' | 'all'>('pending');
  const items = useApi(() => unwrap(api.GET('/v1/reviews/items', { params: { query: { view: 'mine', ...(status === 'pending' ? { status } : {}) } } })), [status]);
  const [decided, setDecided] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<string>();
  const rows = (items.data?.items ?? []).filter((i) => !(status === 'pending' && decided.has(i.id)))
    .sort((a, b) => a.dueAt.localeCompare(b.dueAt));
  return (
    <Stack maw={900}>
      <Title order={1}>Reviews</Title>
      <SegmentedControl aria-label="Which items" value={status} onChange={(v) => setStatus(v as typeof status)} w="fit-content"
        data={[{ value: 'pending', label: 'To decide' }, { value: 'all', label: 'All mine' }]} />
      {notice && <Alert color="green" title={notice} role="status" withCloseButton onClose={() => setNotice(undefined)} />}
      <PageState loading={items.loading && !items.data} problem={items.problem}>
        {rows.length === 0 ? <Text>No review items {status === 'pending' ? 'wait for you' : 'yet'}.</Text> : rows.map((item) => (
          <ReviewItemCard key={item.id} item={item} onDecided={(text) => { setDecided((d) => new Set(d).add(item.id)); setNotice(text); }} />
        ))}
      </PageState>
      {can(me, 'review.manage') && <CampaignForm onStarted={items.reload} />}
    </Stack>
  );
};
