import { Button, Group, SegmentedControl, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { api, problemOf, unwrap, type Finding, type Me, type Problem } from '../api/client';
import { can } from '../api/permissions';
import { useApi } from '../api/use-api';
import { DataTable } from '../components/DataTable';
import { FindingsCharts } from '../components/FindingsCharts';
import { PageState, ProblemAlert } from '../components/PageState';
import { StatusBadge } from '../components/TierBadge';
import { When } from '../components/When';

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];

/** Findings' summaries are written by the server with ISO instants in them; readers get their own locale's dates. */
const ISO_INSTANT = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;
const readableTimes = (text: string): string =>
  text.replace(ISO_INSTANT, (at) => new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }));

/**
 * When a finding must be dealt with: its deadline when one was set, the end of an acceptance, or else
 * why there is none, so an empty column is never a mystery.
 */
const Due = ({ finding: f }: { finding: Finding }) => {
  if (f.dueAt) return <When at={f.dueAt} />;
  if (f.status === 'accepted' && f.acceptedUntil) return <>accepted until <When at={f.acceptedUntil} /></>;
  if (f.status === 'resolved') return <>resolved <When at={f.resolvedAt} /></>;
  return <Text span size="sm" c="dimmed">no deadline: by severity</Text>;
};

/** Findings by kind and severity with owners and due dates, and the trends behind them. */
export const FindingsPage = ({ me }: { me: Me }) => {
  const [status, setStatus] = useState<'open' | 'accepted' | 'resolved' | 'all'>('open');
  // All statuses feed the charts (open over time needs the resolved ones too); the table filters.
  const findings = useApi(() => unwrap(api.GET('/v1/findings', { params: { query: { limit: 5000 } } })), []);
  const all = findings.data?.items ?? [];
  const rows = all.filter((f) => status === 'all' || f.status === status)
    .sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || (a.dueAt ?? '~').localeCompare(b.dueAt ?? '~'));
  return (
    <Stack maw={1200}>
      <Title order={1}>Findings</Title>
      <PageState loading={findings.loading && !findings.data} problem={findings.problem}>
        <FindingsCharts findings={all} me={me} />
        <Group justify="space-between">
          <Title order={2} size="h3">By severity, soonest due first</Title>
          <SegmentedControl aria-label="Status" value={status} onChange={(v) => setStatus(v as typeof status)}
            data={[{ value: 'open', label: 'Open' }, { value: 'accepted', label: 'Accepted' }, { value: 'resolved', label: 'Resolved' }, { value: 'all', label: 'All' }]} />
        </Group>
        <Text size="sm" c="dimmed">Due: a finding has a deadline only when one was set for it, or while it is accepted (until the acceptance ends); the others are worked in order of severity, most severe first.</Text>
        {rows.length === 0 ? <Text>No findings here.</Text> : (
          <DataTable head={['Severity', 'Kind', 'Summary', 'Who / system', 'Owner', 'Due', 'Status', '']} minWidth={900}>
                {rows.map((f) => (
                  <Table.Tr key={f.id}>
                    <Table.Td>{f.severity}</Table.Td>
                    <Table.Td>{f.kind}</Table.Td>
                    <Table.Td>{readableTimes(f.summary)}</Table.Td>
                    <Table.Td>{[f.identity, f.system].filter(Boolean).join(' · ') || '—'}</Table.Td>
                    <Table.Td>{f.owner ?? '—'}</Table.Td>
                    <Table.Td><Due finding={f} /></Table.Td>
                    <Table.Td><StatusBadge status={f.status} /></Table.Td>
                    <Table.Td>{f.status !== 'resolved' && can(me, 'finding.resolve') && <ResolveFinding finding={f} onDone={findings.reload} />}</Table.Td>
                  </Table.Tr>
                ))}
          </DataTable>
        )}
      </PageState>
    </Stack>
  );
};

/** Closing a finding needs what was done; the note is kept if the API refuses it. */
const ResolveFinding = ({ finding, onDone }: { finding: Finding; onDone: () => void }) => {
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState('');
  const [problem, setProblem] = useState<Problem>();
  if (!open) return <Button size="compact-sm" variant="subtle" onClick={() => setOpen(true)}>Resolve</Button>;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await unwrap(api.POST('/v1/findings/{finding}/resolve', { params: { path: { finding: finding.id } }, body: { resolution: note } }));
      onDone();
    } catch (error) {
      setProblem(problemOf(error));
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)}>
      <Stack gap={4} miw={220}>
        <TextInput label="What was done" size="xs" required value={note} onChange={(e) => setNote(e.currentTarget.value)} />
        {problem && <ProblemAlert problem={problem} />}
        <Group gap={4}><Button type="submit" size="compact-sm">Resolve</Button><Button size="compact-sm" variant="subtle" onClick={() => setOpen(false)}>Cancel</Button></Group>
      </Stack>
    </form>
  );
};
