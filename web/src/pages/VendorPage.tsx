import { Anchor, Group, Stack, Table, Text, Title } from '@mantine/core';
import { api, unwrap } from '../api/client';
import { useApi } from '../api/use-api';
import { DataTable } from '../components/DataTable';
import { PageState } from '../components/PageState';
import { ProvisioningState } from '../components/ProvisioningState';
import { StatusBadge } from '../components/TierBadge';
import { When } from '../components/When';
import { href } from '../router';

/**
 * One vendor: its contract end (which ends every engagement and operated service account with it),
 * its people and engagements, the service accounts it runs with their credentials, what they all hold
 * now, and the findings still open about them. Seen by the relationship owner and readers of all.
 */
export const VendorPage = ({ id }: { id: string }) => {
  const vendor = useApi(() => unwrap(api.GET('/v1/vendors/{vendor}', { params: { path: { vendor: id } } })), [id]);
  const v = vendor.data;
  return (
    <Stack maw={1100}>
      <PageState loading={vendor.loading && !v} problem={vendor.problem}>
        {v && (
          <>
            <Group><Title order={1}>{v.name}</Title><StatusBadge status={v.endAppliedAt ? 'ended' : 'active'} /></Group>
            <Text>{v.kind.replaceAll('_', ' ')}; relationship owner <Anchor href={href('people', v.relationshipOwner)}>{v.relationshipOwner}</Anchor></Text>
            <Text>Contract ends <When at={v.contractEnd} />{v.endAppliedAt
              ? <> (carried out <When at={v.endAppliedAt} />: engagements ended, service accounts suspended)</>
              : ': every engagement under it ends by then, and the service accounts it operates are suspended'}</Text>
            <Title order={2} size="h3">Engagements</Title>
            {v.engagements.length === 0 ? <Text>None.</Text> : (
              <DataTable head={['Who', 'Purpose', 'Sponsor', 'Status', 'Ends']} minWidth={640}>
                {v.engagements.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td>{e.identity ? <Anchor href={href('people', e.identity)}>{e.identity}</Anchor> : '—'}</Table.Td>
                    <Table.Td><Anchor href={href('engagements', e.id)}>{e.purpose}</Anchor></Table.Td>
                    <Table.Td>{e.sponsor ?? '—'}</Table.Td><Table.Td><StatusBadge status={e.status} /></Table.Td>
                    <Table.Td><When at={e.endedAt ?? e.endsAt} /></Table.Td>
                  </Table.Tr>
                ))}
              </DataTable>
            )}
            <Title order={2} size="h3">Service accounts it operates</Title>
            {v.serviceAccounts.length === 0 ? <Text>None.</Text> : (
              <DataTable head={['Account', 'Owner', 'Status', 'Credentials']} minWidth={640}>
                {v.serviceAccounts.map((a) => (
                  <Table.Tr key={a.handle}>
                    <Table.Td><Anchor href={href('people', a.handle)}>{a.handle}</Anchor></Table.Td>
                    <Table.Td>{a.owner ?? '—'}</Table.Td><Table.Td><StatusBadge status={a.status} /></Table.Td>
                    <Table.Td>{a.credentials.map((c) => `${c.name} (${c.retirementDueAt ? 'retire now' : c.status})`).join(', ') || '—'}</Table.Td>
                  </Table.Tr>
                ))}
              </DataTable>
            )}
            <Title order={2} size="h3">Held now</Title>
            {v.grants.length === 0 ? <Text>Nothing: no live grant through this vendor.</Text> : (
              <DataTable head={['Who', 'Entitlement', 'Status', 'In the target', 'Until']} minWidth={640}>
                {v.grants.map((g) => (
                  <Table.Tr key={g.id}>
                    <Table.Td>{g.identity ?? '—'}</Table.Td><Table.Td>{g.entitlement}</Table.Td>
                    <Table.Td><StatusBadge status={g.status} /></Table.Td><Table.Td><ProvisioningState state={g.provisioningState} /></Table.Td>
                    <Table.Td><When at={g.endsAt} /></Table.Td>
                  </Table.Tr>
                ))}
              </DataTable>
            )}
            <Title order={2} size="h3">Open findings</Title>
            {v.findings.length === 0 ? <Text>None.</Text> : (
              <DataTable head={['Severity', 'Kind', 'Who', 'Summary', 'Opened']} minWidth={640}>
                {v.findings.map((f) => (
                  <Table.Tr key={f.id}>
                    <Table.Td>{f.severity}</Table.Td><Table.Td>{f.kind}</Table.Td><Table.Td>{f.identity ?? '—'}</Table.Td>
                    <Table.Td>{f.summary}</Table.Td><Table.Td><When at={f.openedAt} /></Table.Td>
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

/** The vendors one may see (those one owns the relationship with; all for IAM, security, auditors), soonest contract end first. */
export const VendorsPage = () => {
  const vendors = useApi(() => unwrap(api.GET('/v1/vendors', { params: { query: { limit: 500 } } })), []);
  return (
    <Stack maw={1000}>
      <Title order={1}>Vendors</Title>
      <PageState loading={vendors.loading && !vendors.data} problem={vendors.problem}>
        {(vendors.data?.items.length ?? 0) === 0 ? <Text>No vendors you can see.</Text> : (
          <DataTable head={['Vendor', 'Kind', 'Relationship owner', 'Contract ends']} minWidth={560}>
            {vendors.data?.items.map((v) => (
              <Table.Tr key={v.id}>
                <Table.Td><Anchor href={href('vendors', v.id)}>{v.name}</Anchor></Table.Td><Table.Td>{v.kind.replaceAll('_', ' ')}</Table.Td>
                <Table.Td>{v.relationshipOwner}</Table.Td><Table.Td><When at={v.contractEnd} /></Table.Td>
              </Table.Tr>
            ))}
          </DataTable>
        )}
      </PageState>
    </Stack>
  );
};
