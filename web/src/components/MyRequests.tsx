import { Button, Table, Text, Title } from '@mantine/core';
import { api, unwrap, type RequestView } from '../api/client';
import { useAction } from '../api/use-action';
import { useApi } from '../api/use-api';
import { DataTable } from './DataTable';
import { PageState, ProblemAlert } from './PageState';
import { stageLabel } from './StageList';
import { StatusBadge } from './TierBadge';
import { When } from './When';

const waitingFor = (r: RequestView): string => {
  const stage = r.stages.find((s) => s.status === 'pending');
  if (r.status === 'queued') return `the shared account to be checked in${r.queuePlace === null ? '' : r.queuePlace === 1 ? ' (next in line)' : ` (place ${r.queuePlace} in line)`}`;
  return r.status === 'pending' && stage ? `${stageLabel(stage.kind)} (${stage.approvers.join(', ')})` : '—';
};

/** The requests I filed or that are for me, newest first; `version` changes when one is added. */
export const MyRequests = ({ version }: { version: number }) => {
  const mine = useApi(() => unwrap(api.GET('/v1/requests', { params: { query: { view: 'mine', limit: 100 } } })), [version]);
  const withdrawal = useAction();
  const withdraw = (id: string) => withdrawal.run(async () => {
    await unwrap(api.POST('/v1/requests/{request}/cancel', { params: { path: { request: id } }, body: { reason: 'withdrawn from the web console' } }));
    mine.reload();
  });
  const rows = [...(mine.data?.items ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return (
    <section aria-labelledby="my-requests">
      <Title order={2} size="h3" id="my-requests" mt="lg">My requests</Title>
      {withdrawal.problem && <ProblemAlert problem={withdrawal.problem} />}
      <PageState loading={mine.loading && !mine.data} problem={mine.problem}>
        {rows.length === 0 ? <Text>No requests yet.</Text> : (
          <DataTable minWidth={560} head={['Entitlement', 'Status', 'Waiting for', 'Ends', 'Filed', '']}>
            {rows.map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td>{r.entitlement}{r.beneficiary && r.beneficiary !== r.requester ? ` for ${r.beneficiary}` : ''}</Table.Td>
                <Table.Td><StatusBadge status={r.status} /></Table.Td>
                <Table.Td>{waitingFor(r)}</Table.Td>
                <Table.Td><When at={r.endsAt} /></Table.Td>
                <Table.Td><When at={r.createdAt} /></Table.Td>
                <Table.Td>{(r.status === 'pending' || r.status === 'queued') && (
                  <Button size="compact-sm" variant="subtle" onClick={() => void withdraw(r.id)} aria-label={`Withdraw ${r.entitlement ?? 'request'}`}>Withdraw</Button>
                )}</Table.Td>
              </Table.Tr>
            ))}
          </DataTable>
        )}
      </PageState>
    </section>
  );
};
