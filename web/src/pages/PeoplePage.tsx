import { Anchor, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { api, unwrap, type Me } from '../api/client';
import { can } from '../api/permissions';
import { useApi } from '../api/use-api';
import { DataTable } from '../components/DataTable';
import { PageState } from '../components/PageState';
import { StatusBadge } from '../components/TierBadge';
import { When } from '../components/When';
import { href } from '../router';

/** The directory for those who may read it; everyone sees themselves and the engagements they may see. */
export const PeoplePage = ({ me }: { me: Me }) => {
  const readAll = can(me, 'identity.read_all');
  const people = useApi(() => (readAll ? unwrap(api.GET('/v1/identities', { params: { query: { limit: 5000 } } })) : Promise.resolve(undefined)), [readAll]);
  const engagements = useApi(() => unwrap(api.GET('/v1/engagements', { params: { query: { status: 'active', limit: 500 } } })), []);
  const [search, setSearch] = useState('');
  const needle = search.trim().toLowerCase();
  const rows = (people.data?.items ?? []).filter((p) => !needle || `${p.handle} ${p.displayName} ${p.email ?? ''}`.toLowerCase().includes(needle));
  return (
    <Stack maw={1100}>
      <Title order={1}>People</Title>
      <Text><Anchor href={href('people', me.handle)}>My page ({me.handle})</Anchor></Text>
      {readAll && (
        <section aria-labelledby="directory">
          <Title order={2} size="h3" id="directory">Identities</Title>
          <TextInput label="Search people" placeholder="handle, name or email" value={search} onChange={(e) => setSearch(e.currentTarget.value)} maw={360} />
          <PageState loading={people.loading && !people.data} problem={people.problem}>
            <DataTable minWidth={640} head={['Handle', 'Name', 'Kind', 'Status', 'Sponsor / manager / owner']}>
              {rows.map((p) => (
                <Table.Tr key={p.id}>
                  <Table.Td><Anchor href={href('people', p.handle)}>{p.handle}</Anchor></Table.Td>
                  <Table.Td>{p.displayName}</Table.Td>
                  <Table.Td>{p.kind}</Table.Td>
                  <Table.Td><StatusBadge status={p.status} /></Table.Td>
                  <Table.Td>{p.sponsor ?? p.manager ?? p.owner ?? '—'}</Table.Td>
                </Table.Tr>
              ))}
            </DataTable>
          </PageState>
        </section>
      )}
      <section aria-labelledby="engagements">
        <Title order={2} size="h3" id="engagements">Active engagements</Title>
        <PageState loading={engagements.loading && !engagements.data} problem={engagements.problem}>
          {(engagements.data?.items.length ?? 0) === 0 ? <Text>No active engagements you can see.</Text> : (
            <DataTable minWidth={640} head={['Who', 'Vendor', 'Purpose', 'Sponsor', 'Ends']}>
              {engagements.data?.items.map((e) => (
                <Table.Tr key={e.id}>
                  <Table.Td>{e.identity ? <Anchor href={href('people', e.identity)}>{e.identity}</Anchor> : '—'}</Table.Td>
                  <Table.Td>{e.vendor}</Table.Td>
                  <Table.Td><Anchor href={href('engagements', e.id)}>{e.purpose}</Anchor></Table.Td>
                  <Table.Td>{e.sponsor ?? '—'}</Table.Td>
                  <Table.Td><When at={e.endsAt} /></Table.Td>
                </Table.Tr>
              ))}
            </DataTable>
          )}
        </PageState>
      </section>
    </Stack>
  );
};
