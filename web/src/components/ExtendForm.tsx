import { Button, Group, Stack, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { api, fieldError, problemOf, unwrap, type GrantView, type Problem } from '../api/client';
import { ProblemAlert } from './PageState';
import { stageLabel } from './StageList';

/** An extension is a request: the sponsor revalidates before the end moves. */
export const ExtendForm = ({ grant, onDone }: { grant: GrantView; onDone: (notice: string) => void }) => {
  const [duration, setDuration] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      const created = await unwrap(api.POST('/v1/requests', { body: { kind: 'extension', targetGrant: grant.id, duration, justification: reason } }));
      onDone(`Extension of ${grant.entitlement} requested: waiting for ${created.stages.map((s) => stageLabel(s.kind).toLowerCase()).join(' → ')}`);
    } catch (error) {
      setProblem(problemOf(error));
      setBusy(false);
    }
  };
  const durationError = fieldError(problem, 'duration', 'endsAt');
  const reasonError = fieldError(problem, 'justification');
  return (
    <form onSubmit={(e) => void submit(e)} aria-label={`Extend ${grant.entitlement}`}>
      <Stack gap="xs">
        <Group grow align="flex-start">
          <TextInput label="Extend by" placeholder="7d" required value={duration} onChange={(e) => setDuration(e.currentTarget.value)} error={durationError} />
          <TextInput label="Reason" required value={reason} onChange={(e) => setReason(e.currentTarget.value)} error={reasonError} />
        </Group>
        {problem && !durationError && !reasonError && <ProblemAlert problem={problem} />}
        <Group><Button type="submit" size="sm" loading={busy}>Ask the sponsor</Button></Group>
      </Stack>
    </form>
  );
};
