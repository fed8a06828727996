import { Button, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { api, problemOf, unwrap, type Problem, type RequestView } from '../api/client';
import { useApi } from '../api/use-api';
import { PageState, ProblemAlert } from './PageState';
import { stageLabel } from './StageList';
import { StatusBadge } from './TierBadge';
import { When } from './When';

const waitingFor = (r: RequestView): string => {
  const stage = r.stages.find((s) => s.status === 'pending');
  return r.status === 'pending' && stage ? `${stageLabel(stage.kind)} (${stage.approvers.join(', ')})` : '—';
};

/** The requests I filed or that are for me, newest first; `version` changes when one is added. */
export const MyRequests = ({ version }: { version: number }) => {
  const mine = useApi(() => unwrap(api.GET('/v1/requests', { params: { query: { view: 'mine', limit: 100 } } })), [version]);
  const [problem, setProblem] = useState<Problem>();
  const withdraw = async (id: string) => {
    setProblem(undefined);
    try {
      await unwrap(api.POST('/v1/requests/{request}/cancel', { params: { path: { request: id } }, body: { reason: 'withdrawn from the web console' } }));
      mine.reload();
    } catch (error) {
      setProblem(problemOf(error));
    }
  };
  const rows = [...(mine.data?.items ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return (
    <section aria-labelledby="my-requests">
      <Title order={2} size="h3" id="my-requests" mt="lg">My requests</Title>
      {problem && <ProblemAlert problem={problem} />}
      <PageState loading={mine.loading && !mine.data} problem={mine.problem}>
        {rows.length === 0 ? <Text>No requests yet.</Text> : (
          <Table.ScrollContainer minWidth={560}>
            <Table striped>
              <Table.Thead><Table.Tr>
                <Table.Th>Entitlement</Table.Th><Table.Th>Status</Table.Th><Table.Th>Waiting for</Table.Th><Table.Th>Ends</Table.Th><Table.Th>Filed</Table.Th><Table.Th />
              </Table.Tr></Table.Thead>
              <Table.Tbody>
                {rows.map((r) => (
                  <Table.Tr key={r.id}>
                    <Table.Td>{r.entitlement}{r.beneficiary && r.beneficiary !== r.requester ? ` for ${r.beneficiary}` : ''}</Table.Td>
                    <Table.Td><StatusBadge status={r.status} /></Table.Td>
                    <Table.Td>{waitingFor(r)}</Table.Td>
                    <Table.Td><When at={r.endsAt} /></Table.Td>
                    <Table.Td><When at={r.createdAt} /></Table.Td>
                    <Table.Td>{r.status === 'pending' && (
                      <Button size="compact-sm" variant="subtle" onClick={() => void withdraw(r.id)} aria-label={`Withdraw ${r.entitlement ?? 'request'}`}>Withdraw</Button>
                    )}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </PageState>
    </section>
  );
};
