import { Alert, Button, Group, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { api, problemOf, unwrap, type Problem } from '../api/client';
import { useApi } from '../api/use-api';
import { decisionText, type Decision } from '../components/decision-text';
import { InboxItem } from '../components/InboxItem';
import { PageState, ProblemAlert } from '../components/PageState';

/** What waits for my decision, oldest first, each request with everything needed to decide on one screen. */
export const InboxPage = () => {
  const inbox = useApi(() => unwrap(api.GET('/v1/requests', { params: { query: { view: 'inbox', status: 'pending' } } })), []);
  const [decided, setDecided] = useState<Set<string>>(new Set());
  const [outcome, setOutcome] = useState<string>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkProblem, setBulkProblem] = useState<Problem>();
  const items = (inbox.data?.items ?? []).filter((r) => !decided.has(r.id));

  const all = inbox.data?.items ?? [];
  const onDecided = (id: string, verdict: 'Approved' | 'Denied', decision?: Decision) => {
    setDecided((d) => new Set(d).add(id));
    setSelected((s) => { const next = new Set(s); next.delete(id); return next; });
    const request = all.find((r) => r.id === id);
    setOutcome((before) => {
      const text = request ? decisionText(request, verdict, decision) : verdict;
      // Bulk approval decides several at once: each gets its line.
      return before && decision && selected.size > 1 ? `${before}\n${text}` : text;
    });
  };
  const toggle = (id: string, on: boolean) => setSelected((s) => { const next = new Set(s); if (on) next.add(id); else next.delete(id); return next; });

  // Bulk approval only of requests shown above with their details and ticked one by one.
  const approveSelected = async () => {
    setBulkProblem(undefined);
    try {
      const { results } = await unwrap(api.POST('/v1/requests/approvals', { body: { requests: [...selected] } }));
      setOutcome(undefined);
      for (const r of results) if (r.outcome) onDecided(r.request, 'Approved', r.outcome);
      const refused = results.filter((r) => r.problem);
      if (refused.length > 0) setBulkProblem({ ...refused[0]!.problem!, detail: `${refused.length} not approved: ${refused.map((r) => r.problem!.detail).join('; ')}` });
    } catch (error) {
      setBulkProblem(problemOf(error));
    }
  };

  return (
    <Stack maw={900}>
      <Title order={1}>Inbox</Title>
      {outcome && (
        <Alert color="green" title={outcome.startsWith('Denied') ? 'Denied' : 'Approved'} role="status" withCloseButton closeButtonLabel="Dismiss"
          onClose={() => setOutcome(undefined)} style={{ whiteSpace: 'pre-line' }}>{outcome}</Alert>
      )}
      {bulkProblem && <ProblemAlert problem={bulkProblem} />}
      <PageState loading={inbox.loading && !inbox.data} problem={inbox.problem}>
        {items.length === 0 ? <Text>Nothing waits for you.</Text> : (
          <>
            {selected.size > 0 && (
              <Group><Button onClick={() => void approveSelected()}>Approve selected ({selected.size})</Button></Group>
            )}
            {items.map((request) => (
              <InboxItem key={request.id} request={request} selected={selected.has(request.id)} onSelect={(on) => toggle(request.id, on)}
                onDecided={(verdict, decision) => onDecided(request.id, verdict, decision)} />
            ))}
          </>
        )}
      </PageState>
    </Stack>
  );
};
