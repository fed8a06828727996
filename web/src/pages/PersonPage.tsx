import { Anchor, Group, List, Stack, Table, Text, Title } from '@mantine/core';
import { api, ApiProblem, unwrap, type Me } from '../api/client';
import { can } from '../api/permissions';
import { useApi } from '../api/use-api';
import { DataTable } from '../components/DataTable';
import { GrantSessions } from '../components/GrantSessions';
import { ProvisioningState } from '../components/ProvisioningState';
import { PageState } from '../components/PageState';
import { Section } from '../components/Section';
import { StatusBadge, TierBadge } from '../components/TierBadge';
import { When } from '../components/When';
import { href } from '../router';

const none = <Text size="sm">None.</Text>;
/** What the API would refuse is not asked for: the section then says it is not visible. */
const skipped = () => Promise.reject(new ApiProblem({ status: 403, code: 'actor.forbidden', title: 'Forbidden', detail: 'not visible to you' }));

/** An identity: status and who answers for it, engagements, grants, credentials, findings, timeline. */
export const PersonPage = ({ me, handle }: { me: Me; handle: string }) => {
  const person = useApi(() => unwrap(api.GET('/v1/identities/{identity}', { params: { path: { identity: handle } } })), [handle]);
  const engagements = useApi(() => unwrap(api.GET('/v1/engagements', { params: { query: { identity: handle } } })), [handle]);
  const grants = useApi(() => unwrap(api.GET('/v1/grants', { params: { query: { identity: handle, limit: 500 } } })), [handle]);
  const credentials = useApi(() => unwrap(api.GET('/v1/credentials', { params: { query: { identity: handle } } })), [handle]);
  const findings = useApi(() => unwrap(api.GET('/v1/findings', { params: { query: { limit: 5000 } } })), []);
  const auditor = can(me, 'audit.read');
  const timeline = useApi(() => (auditor ? unwrap(api.GET('/v1/audit/events', { params: { query: { identity: handle, limit: 200 } } })) : skipped()), [handle, auditor]);
  const p = person.data;
  return (
    <Stack maw={1100} gap={0}>
      <PageState loading={person.loading && !p} problem={person.problem}>
        {p && (
          <>
            <Group><Title order={1}>{p.displayName} ({p.handle})</Title><StatusBadge status={p.status} /></Group>
            <Text>{p.kind}{p.email ? ` · ${p.email}` : ''}</Text>
            {p.sponsor && <Text>Sponsor: <Anchor href={href('people', p.sponsor)}>{p.sponsor}</Anchor></Text>}
            {p.manager && <Text>Manager: <Anchor href={href('people', p.manager)}>{p.manager}</Anchor></Text>}
            {p.owner && <Text>Owner: <Anchor href={href('people', p.owner)}>{p.owner}</Anchor></Text>}
            {auditor && <Text><Anchor href={`/v1/evidence/identity/${encodeURIComponent(p.handle)}`} download={`evidence-${p.handle}.json`}>Download evidence pack</Anchor></Text>}
          </>
        )}
      </PageState>
      <Section title="Engagements" loaded={engagements}>{(d) => d.items.length === 0 ? none : (
        <List size="sm">{d.items.map((e) => <List.Item key={e.id}><Anchor href={href('engagements', e.id)}>{e.vendor}: {e.purpose}</Anchor> ({e.status}), ends <When at={e.endsAt} /></List.Item>)}</List>
      )}</Section>
      <Section title="Grants" loaded={grants}>{(d) => d.items.length === 0 ? none : (
        <DataTable head={['Entitlement', 'Tier', 'Status', 'Ends', 'Provisioning', 'Sessions']} minWidth={620}>{d.items.map((g) => (
            <Table.Tr key={g.id}><Table.Td>{g.entitlement}</Table.Td><Table.Td><TierBadge tier={g.tier} /></Table.Td><Table.Td><StatusBadge status={g.status} /></Table.Td>
              <Table.Td><When at={g.endedAt ?? g.endsAt} /></Table.Td><Table.Td><ProvisioningState state={g.provisioningState} /></Table.Td>
              <Table.Td><GrantSessions grant={g} /></Table.Td></Table.Tr>
          ))}</DataTable>
      )}</Section>
      <Section title="Credentials" loaded={credentials}>{(d) => d.items.length === 0 ? none : (
        <List size="sm">{d.items.map((c) => <List.Item key={c.id}>{c.name} ({c.kind}, {c.status}) rotated <When at={c.lastRotatedAt} />, expires <When at={c.expiresAt} /></List.Item>)}</List>
      )}</Section>
      <Section title="Findings" loaded={findings}>{(d) => {
        const mine = d.items.filter((f) => f.identity === handle && f.status !== 'resolved');
        return mine.length === 0 ? none : <List size="sm">{mine.map((f) => <List.Item key={f.id}>{f.severity} · {f.kind}: {f.summary}</List.Item>)}</List>;
      }}</Section>
      <Section title="Timeline" loaded={timeline}>{(d) => d.items.length === 0 ? none : (
        <List size="sm">{d.items.map((e) => <List.Item key={e.seq}>#{e.seq} <When at={e.at} /> {e.action}{e.reason ? `: ${e.reason}` : ''}</List.Item>)}</List>
      )}</Section>
    </Stack>
  );
};
