import { Alert, Button, Group, Select, SimpleGrid, Stack, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { api, fieldError, unwrap } from '../api/client';
import { useAction } from '../api/use-action';
import { ProblemAlert } from './PageState';

type Scope = 'non_employee' | 'privileged' | 'system' | 'engagement' | 'all';
type Reviewer = 'sponsor' | 'system_owner' | 'manager';

const SCOPES: { value: Scope; label: string }[] = [
  { value: 'non_employee', label: 'Grants of non-employees' }, { value: 'privileged', label: 'Privileged grants' },
  { value: 'system', label: 'Grants on one system' }, { value: 'engagement', label: 'Grants under one engagement' }, { value: 'all', label: 'All grants' },
];
const REVIEWERS: { value: Reviewer; label: string }[] = [
  { value: 'sponsor', label: 'Their sponsor' }, { value: 'system_owner', label: 'The system owner' }, { value: 'manager', label: 'Their manager' },
];

/**
 * Opens a review campaign by hand, as `tenure review campaign` does: which grants, who reviews them, by
 * when. Shown only to those whose roles allow it (review.manage); the API refuses anyone else anyway.
 */
export const CampaignForm = ({ onStarted }: { onStarted: () => void }) => {
  const [name, setName] = useState('');
  const [scope, setScope] = useState<Scope>('non_employee');
  const [target, setTarget] = useState('');
  const [reviewer, setReviewer] = useState<Reviewer>('sponsor');
  const [dueIn, setDueIn] = useState('14d');
  const [started, setStarted] = useState<string>();
  const { busy, problem, run } = useAction();
  const needsTarget = scope === 'system' || scope === 'engagement';

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setStarted(undefined);
    void run(async () => {
      const opened = await unwrap(api.POST('/v1/reviews/campaigns', { body: {
        scope, reviewer, dueIn: dueIn.trim(), ...(name.trim() ? { name: name.trim() } : {}),
        ...(needsTarget ? { [scope]: target.trim() } : {}),
      } }));
      setStarted(opened.created
        ? `${opened.items} grants to review, due ${new Date(opened.dueAt).toLocaleDateString()}${opened.unassigned.length > 0 ? `; ${opened.unassigned.length} have no reviewer but their holder` : ''}.`
        : 'Nothing in that scope to review: no campaign was created.');
      onStarted();
    });
  };
  const errors = { name: fieldError(problem, 'name'), target: fieldError(problem, 'system', 'engagement'), due: fieldError(problem, 'due', 'dueIn') };
  return (
    <section aria-labelledby="start-campaign">
      <Title order={2} size="h3" id="start-campaign">Start a campaign</Title>
      {started && <Alert color="green" title="Campaign started" role="status" mt="xs">{started}</Alert>}
      <form onSubmit={submit} aria-label="Start a review campaign">
        <Stack gap="xs" mt="xs">
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Name" placeholder="Quarterly contractor review" value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} />
            <Select label="Grants" data={SCOPES} value={scope} allowDeselect={false} onChange={(v) => v && setScope(v as Scope)} />
            {needsTarget && (
              <TextInput label={scope === 'system' ? 'System' : 'Engagement id'} required value={target} placeholder={scope === 'system' ? 'payments' : ''}
                onChange={(e) => setTarget(e.currentTarget.value)} error={errors.target} />
            )}
            <Select label="Reviewer" data={REVIEWERS} value={reviewer} allowDeselect={false} onChange={(v) => v && setReviewer(v as Reviewer)} />
            <TextInput label="Due in" description="How long reviewers have: 7d, 14d" required value={dueIn} onChange={(e) => setDueIn(e.currentTarget.value)} error={errors.due} />
          </SimpleGrid>
          {problem && !Object.values(errors).some(Boolean) && <ProblemAlert problem={problem} />}
          <Group><Button type="submit" loading={busy}>Start campaign</Button></Group>
        </Stack>
      </form>
    </section>
  );
};
