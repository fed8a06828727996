import { Alert, Anchor, Button, Group, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState, type FormEvent } from 'react';
import { api, fieldError, problemOf, unwrap, type AuditEvent, type Problem } from '../api/client';
import { actorText, subjectText } from '../components/audit-names';
import { AuditEventDetail } from '../components/AuditEventDetail';
import { PageState, ProblemAlert } from '../components/PageState';
import { When } from '../components/When';

interface Filters { identity: string; system: string; action: string; actor: string; from: string; to: string }
const EMPTY: Filters = { identity: '', system: '', action: '', actor: '', from: '', to: '' };

/** Only the filters that are set, as the API's query (dates as ISO instants). */
const queryOf = (f: Filters) => Object.fromEntries(Object.entries({
  ...f, from: f.from ? new Date(f.from).toISOString() : '', to: f.to ? new Date(f.to).toISOString() : '',
}).filter(([, v]) => v.trim() !== '').map(([k, v]) => [k, v.trim()]));

/**
 * The audit log, newest first: the latest events on arrival, then searched by person, system, action
 * and time; an event with its chain position; verify; export.
 */
export const AuditPage = () => {
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [searched, setSearched] = useState<Filters>();
  const [events, setEvents] = useState<AuditEvent[]>();
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const [shown, setShown] = useState<AuditEvent>();
  const [verification, setVerification] = useState<{ ok: boolean; text: string }>();
  const [verifying, setVerifying] = useState(false);

  const search = async (cursor?: string) => {
    setLoading(true);
    setProblem(undefined);
    try {
      const page = await unwrap(api.GET('/v1/audit/events', { params: { query: { ...queryOf(filters), order: 'desc', limit: 100, ...(cursor ? { cursor } : {}) } as never } }));
      setEvents(cursor ? [...(events ?? []), ...page.items] : page.items);
      setNext(page.nextCursor);
      setSearched(filters);
      if (!cursor) setShown(undefined);
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setLoading(false);
    }
  };
  const verify = async () => {
    setVerifying(true);
    try {
      const v = await unwrap(api.POST('/v1/audit/verify'));
      setVerification(v.ok
        ? { ok: true, text: `Chain intact: ${v.events} events and ${v.checkpoints} signed checkpoints verified.` }
        : { ok: false, text: `Chain broken at event ${v.firstBadSeq ?? '?'}: ${v.reason ?? 'unknown reason'}.` });
    } catch (error) {
      setVerification({ ok: false, text: problemOf(error).detail });
    } finally {
      setVerifying(false);
    }
  };
  // The latest events on arrival, once: a reader sees what just happened before choosing what to look for.
  useEffect(() => { void search(); }, []);
  const set = (key: keyof Filters) => (e: { currentTarget: { value: string } }) => setFilters({ ...filters, [key]: e.currentTarget.value });
  const exportHref = `/v1/audit/export?${new URLSearchParams(queryOf(searched ?? filters)).toString()}`;

  return (
    <Stack maw={1200}>
      <Group justify="space-between">
        <Title order={1}>Audit</Title>
        <Button variant="light" onClick={() => void verify()} loading={verifying}>Verify chain</Button>
      </Group>
      {verification && (
        <Alert color={verification.ok ? 'green' : 'red'} title={verification.ok ? 'Chain verified' : 'Chain verification failed'} role="status"
          withCloseButton onClose={() => setVerification(undefined)}>{verification.text}</Alert>
      )}
      <form onSubmit={(e: FormEvent) => { e.preventDefault(); void search(); }} aria-label="Search the audit log">
        <Stack gap="xs">
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <TextInput label="Person" placeholder="carl" value={filters.identity} onChange={set('identity')} error={fieldError(problem, 'identity')} />
            <TextInput label="System" placeholder="payments" value={filters.system} onChange={set('system')} error={fieldError(problem, 'system')} />
            <TextInput label="Action" placeholder="request.approved" value={filters.action} onChange={set('action')} error={fieldError(problem, 'action')} />
            <TextInput label="Actor" placeholder="sam" value={filters.actor} onChange={set('actor')} error={fieldError(problem, 'actor')} />
            <TextInput label="From" type="datetime-local" value={filters.from} onChange={set('from')} error={fieldError(problem, 'from')} />
            <TextInput label="To" type="datetime-local" value={filters.to} onChange={set('to')} error={fieldError(problem, 'to')} />
          </SimpleGrid>
          <Group>
            <Button type="submit" loading={loading}>Search</Button>
            {events && <Anchor href={exportHref} download="tenure-evidence.jsonl">Download evidence pack (JSON Lines)</Anchor>}
          </Group>
        </Stack>
      </form>
      {problem && <ProblemAlert problem={problem} />}
      {shown && <AuditEventDetail event={shown} onClose={() => setShown(undefined)} />}
      <PageState loading={loading && !events} problem={undefined}>
        {events && (events.length === 0 ? <Text>No event matches.</Text> : (
          <Table.ScrollContainer minWidth={900}>
            <Table striped highlightOnHover>
              <Table.Thead><Table.Tr>
                <Table.Th>Seq</Table.Th><Table.Th>Time</Table.Th><Table.Th>Action</Table.Th><Table.Th>Actor</Table.Th><Table.Th>Subject</Table.Th><Table.Th>Reason</Table.Th><Table.Th />
              </Table.Tr></Table.Thead>
              <Table.Tbody>
                {events.map((e) => (
                  <Table.Tr key={e.seq}>
                    <Table.Td>{e.seq}</Table.Td>
                    <Table.Td><When at={e.at} /></Table.Td>
                    <Table.Td>{e.action}</Table.Td>
                    <Table.Td>{actorText(e)}</Table.Td>
                    <Table.Td title={`${e.subject.type} ${e.subject.id}`}>{subjectText(e)}</Table.Td>
                    <Table.Td>{e.reason ?? ''}</Table.Td>
                    <Table.Td><Button size="compact-sm" variant="subtle" onClick={() => setShown(e)} aria-label={`Show event ${e.seq}`}>Show</Button></Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        ))}
        {next && <Button variant="default" onClick={() => void search(next)} loading={loading}>Load more</Button>}
      </PageState>
    </Stack>
  );
};
