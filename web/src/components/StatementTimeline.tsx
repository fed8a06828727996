import { Code, Table, Text } from '@mantine/core';
import type { ProxySessionDetail } from '../api/client';
import { DataTable } from './DataTable';

type Entry = ProxySessionDetail['timeline'][number];

/** Microseconds as people read a query's duration: 812 µs, 3.4 ms, 2.1 s. */
const durationText = (us: number): string => {
  if (us < 1000) return `${us} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 1 : 0)} ms`;
  return `${(us / 1_000_000).toFixed(1)} s`;
};

/** The time of day to the millisecond (statements are often many a second); the full instant is in the title. */
const timeText = (at: string): string =>
  new Date(at).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hour12: false });

/** Parameters as recorded: `{"redacted": n}` by policy, or the values (null for SQL NULL, a byte count when binary). */
const paramsText = (params: unknown): string => {
  if (params === null || params === undefined) return '—';
  if (typeof params === 'object' && !Array.isArray(params) && 'redacted' in params) return `${String((params as { redacted: unknown }).redacted)} redacted`;
  return JSON.stringify(params);
};

/**
 * A PostgreSQL session's statements in order, as recorded by the proxy. A stored line that is no longer a
 * statement record (edited by hand) is shown as stored, in red, never dropped: the reader sees what changed.
 */
export const StatementTimeline = ({ timeline }: { timeline: Entry[] }) => {
  if (timeline.length === 0) return <Text>No statement recorded.</Text>;
  return (
    <DataTable minWidth={1000} head={['#', 'Time', 'Duration', 'Rows', 'Error', 'Statement', 'Parameters']}>
      {timeline.map((e) => ('unreadable' in e ? (
        <Table.Tr key={e.seq}>
          <Table.Td>{e.seq}</Table.Td>
          <Table.Td colSpan={6}><Text c="red.9" fw={600} size="sm">Not a statement record, as stored:</Text><Code block>{e.unreadable}</Code></Table.Td>
        </Table.Tr>
      ) : (
        <Table.Tr key={e.seq}>
          <Table.Td>{e.seq}</Table.Td>
          <Table.Td><time dateTime={e.at} title={e.at}>{timeText(e.at)}</time></Table.Td>
          <Table.Td>{durationText(e.durationUs)}</Table.Td>
          <Table.Td title={e.tags.join(', ')}>{e.rows}</Table.Td>
          <Table.Td>{e.error ? <Text c="red.9" size="sm">{e.error.code}: {e.error.message}</Text> : '—'}</Table.Td>
          <Table.Td><Code block>{e.text}</Code></Table.Td>
          <Table.Td>{paramsText(e.params)}</Table.Td>
        </Table.Tr>
      )))}
    </DataTable>
  );
};
