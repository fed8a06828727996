import { Anchor, Group, Stack, Table, Text, Title } from '@mantine/core';
import { api, unwrap } from '../api/client';
import { useApi } from '../api/use-api';
import { DataTable } from '../components/DataTable';
import { ProvisioningState } from '../components/ProvisioningState';
import { PageState } from '../components/PageState';
import { StatusBadge, TierBadge } from '../components/TierBadge';
import { When } from '../components/When';
import { href } from '../router';

/** One engagement: why the person is here, until when, what is in scope, and every grant it has carried. */
export const EngagementPage = ({ id }: { id: string }) => {
  const engagement = useApi(() => unwrap(api.GET('/v1/engagements/{engagement}', { params: { path: { engagement: id } } })), [id]);
  const e = engagement.data;
  return (
    <Stack maw={1000}>
      <PageState loading={engagement.loading && !e} problem={engagement.problem}>
        {e && (
          <>
            <Group><Title order={1}><Anchor href={href('vendors', e.vendor)} inherit>{e.vendor}</Anchor>: {e.purpose}</Title><StatusBadge status={e.status} /></Group>
            {e.identity && <Text>Engaged: <Anchor href={href('people', e.identity)}>{e.identity}</Anchor></Text>}
            {e.sponsor && <Text>Sponsor: <Anchor href={href('people', e.sponsor)}>{e.sponsor}</Anchor></Text>}
            <Text>From <When at={e.startsAt} /> to <When at={e.endsAt} /> (no grant under it outlives this end)</Text>
            <Text>Data sensitivity: {e.dataSensitivity}</Text>
            <Text>Systems in scope: {e.scope.join(', ') || 'none'}</Text>
            <Title order={2} size="h3">Grants under this engagement</Title>
            {e.grants.length === 0 ? <Text>None yet.</Text> : (
              <DataTable head={['Entitlement', 'Tier', 'Status', 'In the target', 'From', 'Until', 'Ended']} minWidth={760}>
                {e.grants.map((g) => (
                  <Table.Tr key={g.id}>
                    <Table.Td>{g.entitlement}</Table.Td><Table.Td><TierBadge tier={g.tier} /></Table.Td>
                    <Table.Td><StatusBadge status={g.status} /></Table.Td><Table.Td><ProvisioningState state={g.provisioningState} /></Table.Td>
                    <Table.Td><When at={g.startsAt} /></Table.Td><Table.Td><When at={g.endsAt} /></Table.Td>
                    <Table.Td>{g.endedAt ? <><When at={g.endedAt} />{g.endReason && ` (${g.endReason})`}</> : '—'}</Table.Td>
                  </Table.Tr>
                ))}
              </DataTable>
            )}
          </>
        )}
      </PageState>
    </Stack>
  );
};
