import { Anchor, Button, Group, NativeSelect, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState, type FormEvent } from 'react';
import { api, fieldError, problemOf, unwrap, type Problem, type ProxySession } from '../api/client';
import { DataTable } from '../components/DataTable';
import { PageState, ProblemAlert } from '../components/PageState';
import { PROTOCOL, VerdictBadge } from '../components/SessionVerdict';
import { When } from '../components/When';
import { href } from '../router';

interface Filters { identity: string; system: string; state: '' | 'open' | 'ended' }
const EMPTY: Filters = { identity: '', system: '', state: '' };

/** Only the filters that are set, as the API's query. */
const queryOf = (f: Filters, grant: string | undefined) => Object.fromEntries(Object.entries({ ...f, grant: grant ?? '' })
  .filter(([, v]) => v.trim() !== '').map(([k, v]) => [k, v.trim()]));

/**
 * The proxied sessions the reader may read (the API scopes the list: their own, those of people they
 * answer for, on systems they own, all for security and auditors), newest first, a page at a time.
 * With `grant`, only that grant's sessions (linked from a grant's row).
 */
export const SessionsPage = ({ grant }: { grant?: string | undefined }) => {
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [sessions, setSessions] = useState<ProxySession[]>();
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<Problem>();

  const search = async (cursor?: string) => {
    setLoading(true);
    setProblem(undefined);
    try {
      const page = await unwrap(api.GET('/v1/proxy-sessions', { params: { query: { ...queryOf(filters, grant), limit: 100, ...(cursor ? { cursor } : {}) } } }));
      setSessions(cursor ? [...(sessions ?? []), ...page.items] : page.items);
      setNext(page.nextCursor);
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => { void search(); }, [grant]);
  const set = (key: 'identity' | 'system') => (e: { currentTarget: { value: string } }) => setFilters({ ...filters, [key]: e.currentTarget.value });

  return (
    <Stack maw={1300}>
      <Title order={1}>Sessions</Title>
      <Text>Privileged sessions through Tenure&apos;s access proxy, each with its recording checked against the digest in the audit chain.</Text>
      {grant && <Text>Sessions of grant <code>{grant}</code> only. <Anchor href={href('sessions')}>Show all sessions</Anchor></Text>}
      <form onSubmit={(e: FormEvent) => { e.preventDefault(); void search(); }} aria-label="Search sessions">
        <Group align="end">
          <SimpleGrid cols={{ base: 1, sm: 3 }} style={{ flex: 1 }}>
            <TextInput label="Person" placeholder="carl" value={filters.identity} onChange={set('identity')} error={fieldError(problem, 'identity')} />
            <TextInput label="System" placeholder="payments" value={filters.system} onChange={set('system')} error={fieldError(problem, 'system')} />
            <NativeSelect label="State" data={[{ value: '', label: 'Open and ended' }, { value: 'open', label: 'Open' }, { value: 'ended', label: 'Ended' }]}
              value={filters.state} onChange={(e) => setFilters({ ...filters, state: e.currentTarget.value as Filters['state'] })} />
          </SimpleGrid>
          <Button type="submit" loading={loading}>Search</Button>
        </Group>
      </form>
      {problem && <ProblemAlert problem={problem} />}
      <PageState loading={loading && !sessions} problem={undefined}>
        {sessions && (sessions.length === 0 ? <Text>No session you may read matches.</Text> : (
          <DataTable minWidth={1100} head={['Started', 'Recording', 'Person', 'Entitlement', 'Account', 'Protocol', 'Ended', 'Why it ended', 'Statements / events']}>
            {sessions.map((s) => (
              <Table.Tr key={s.id}>
                <Table.Td><Anchor href={href('sessions', s.id)}><When at={s.startedAt} /></Anchor></Table.Td>
                <Table.Td><VerdictBadge verified={s.verified} /></Table.Td>
                <Table.Td><Anchor href={href('people', s.person)}>{s.person}</Anchor></Table.Td>
                <Table.Td>{s.entitlement}</Table.Td>
                <Table.Td>{s.account}</Table.Td>
                <Table.Td>{PROTOCOL[s.protocol] ?? s.protocol}</Table.Td>
                <Table.Td>{s.endedAt ? <When at={s.endedAt} /> : 'open'}</Table.Td>
                <Table.Td>{s.endReason ?? '—'}</Table.Td>
                <Table.Td>{s.statements ?? '—'}</Table.Td>
              </Table.Tr>
            ))}
          </DataTable>
        ))}
        {next && <Button variant="default" onClick={() => void search(next)} loading={loading}>Load more</Button>}
      </PageState>
    </Stack>
  );
};
