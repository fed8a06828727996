import { Button, Group, Stack, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { api, fieldError, unwrap, type GrantView } from '../api/client';
import { useAction } from '../api/use-action';
import { ProblemAlert } from './PageState';
import { stageLabel } from './StageList';

/** An extension is a request: the sponsor revalidates before the end moves. */
export const ExtendForm = ({ grant, onDone }: { grant: GrantView; onDone: (notice: string) => void }) => {
  const [duration, setDuration] = useState('');
  const [reason, setReason] = useState('');
  const { busy, problem, run } = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const created = await unwrap(api.POST('/v1/requests', { body: { kind: 'extension', targetGrant: grant.id, duration, justification: reason } }));
      onDone(`Extension of ${grant.entitlement} requested: waiting for ${created.stages.map((s) => stageLabel(s.kind).toLowerCase()).join(' → ')}`);
    });
  };
  const durationError = fieldError(problem, 'duration', 'endsAt');
  const reasonError = fieldError(problem, 'justification');
  return (
    <form onSubmit={submit} aria-label={`Extend ${grant.entitlement}`}>
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
