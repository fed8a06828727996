import { Anchor, Group, Stack, Text, Title } from '@mantine/core';
import { api, unwrap } from '../api/client';
import { useApi } from '../api/use-api';
import { PageState } from '../components/PageState';
import { StatusBadge } from '../components/TierBadge';
import { When } from '../components/When';
import { href } from '../router';

/** One engagement: why the person is here, until when, and what is in scope. Found in the list I may see. */
export const EngagementPage = ({ id }: { id: string }) => {
  const list = useApi(() => unwrap(api.GET('/v1/engagements', { params: { query: { limit: 5000 } } })), []);
  const e = list.data?.items.find((x) => x.id === id);
  return (
    <Stack maw={900}>
      <PageState loading={list.loading && !list.data} problem={list.problem}>
        {!e ? <Text>No engagement you may see has this id.</Text> : (
          <>
            <Group><Title order={1}>{e.vendor}: {e.purpose}</Title><StatusBadge status={e.status} /></Group>
            {e.identity && <Text>Engaged: <Anchor href={href('people', e.identity)}>{e.identity}</Anchor></Text>}
            {e.sponsor && <Text>Sponsor: <Anchor href={href('people', e.sponsor)}>{e.sponsor}</Anchor></Text>}
            <Text>From <When at={e.startsAt} /> to <When at={e.endsAt} /></Text>
            <Text>Data sensitivity: {e.dataSensitivity}</Text>
            <Text>Scope: {e.scope.join(', ') || 'nothing'}</Text>
          </>
        )}
      </PageState>
    </Stack>
  );
};
