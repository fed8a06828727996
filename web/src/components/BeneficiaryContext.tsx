import { Alert, Anchor, List, Text } from '@mantine/core';
import { api, unwrap } from '../api/client';
import { useApi } from '../api/use-api';
import { href } from '../router';
import { When } from './When';

/**
 * The beneficiary's engagement and current access: the API shows them to whoever is asked to decide, while
 * the request waits for them. Anyone else the API refuses (a reader of a decided request), and is told so.
 */
export const BeneficiaryContext = ({ handle, entitlement }: { handle: string; entitlement: string | undefined }) => {
  const grants = useApi(() => unwrap(api.GET('/v1/grants', { params: { query: { identity: handle, status: 'live' } } })), [handle]);
  const engagements = useApi(() => unwrap(api.GET('/v1/engagements', { params: { query: { identity: handle, status: 'active' } } })), [handle]);
  const engagement = engagements.data?.items[0];
  const held = grants.data?.items ?? [];
  return (
    <div>
      <Text size="sm"><b>Beneficiary</b> <Anchor href={href('people', handle)} size="sm">{handle}</Anchor></Text>
      {engagement && (
        <Text size="sm"><b>Engagement</b> <Anchor href={href('engagements', engagement.id)} size="sm">{engagement.vendor}: {engagement.purpose}</Anchor>, ends <When at={engagement.endsAt} /> (scope: {engagement.scope.join(', ') || 'none'})</Text>
      )}
      {grants.problem ? <Text size="sm" c="dimmed">Their current access is not visible to you.</Text> : grants.data && (
        <>
          <Text size="sm" fw={700}>Current access</Text>
          {held.length === 0 ? <Text size="sm">None.</Text> : (
            <List size="sm">{held.map((g) => <List.Item key={g.id}>{g.entitlement} ({g.tier}) until <When at={g.endsAt} /></List.Item>)}</List>
          )}
          {entitlement && held.some((g) => g.entitlement === entitlement) && (
            <Alert color="yellow" role="note" title="Already held">This is an extension or change of access they already hold.</Alert>
          )}
        </>
      )}
    </div>
  );
};
