import { Alert, Button, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { api, fieldError, unwrap, type Me } from '../api/client';
import { useAction } from '../api/use-action';
import { useApi } from '../api/use-api';
import { BreakGlassReviewCard } from '../components/BreakGlassReviewCard';
import { EntitlementPicker } from '../components/EntitlementPicker';
import { PageState, ProblemAlert } from '../components/PageState';

/** Emergency access for myself with an incident reference, and the post-use reviews (mine to decide, or about me). */
export const BreakGlassPage = ({ me }: { me: Me }) => {
  const catalogue = useApi(() => unwrap(api.GET('/v1/catalogue')), []);
  const reviews = useApi(() => unwrap(api.GET('/v1/breakglass/reviews', { params: { query: { limit: 200 } } })), []);
  const [entitlement, setEntitlement] = useState('');
  const [incident, setIncident] = useState('');
  const [reason, setReason] = useState('');
  const [ttl, setTtl] = useState('');
  const { busy, problem, run } = useAction();
  const [started, setStarted] = useState<string>();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const s = await unwrap(api.POST('/v1/breakglass', { body: { entitlement, incident, reason, ...(ttl.trim() ? { ttl: ttl.trim() } : {}) } }));
      setStarted(`${s.entitlement} is active until ${new Date(s.endsAt).toLocaleString()}; its review is due ${new Date(s.reviewDueAt).toLocaleString()}.`);
      setEntitlement(''); setIncident(''); setReason(''); setTtl('');
      reviews.reload();
    });
  };
  const errors = { entitlement: fieldError(problem, 'entitlement'), incident: fieldError(problem, 'incident'), reason: fieldError(problem, 'reason'), ttl: fieldError(problem, 'ttl') };
  const items = reviews.data?.items ?? [];
  return (
    <Stack maw={900}>
      <Title order={1}>Break-glass</Title>
      <Text>Emergency access starts at once, is heavily logged, and is reviewed after use by a named approver.</Text>
      {started && <Alert color="orange" title="Break-glass access granted" role="status">{started}</Alert>}
      <form onSubmit={submit} aria-label="Take break-glass access">
        <Stack>
          <EntitlementPicker label="Entitlement" items={catalogue.data?.items ?? []} value={entitlement} onChange={setEntitlement} error={errors.entitlement} />
          <TextInput label="Incident" description="The incident reference" required value={incident} onChange={(e) => setIncident(e.currentTarget.value)} error={errors.incident} />
          <Textarea label="Reason" required autosize minRows={2} value={reason} onChange={(e) => setReason(e.currentTarget.value)} error={errors.reason} />
          <TextInput label="Duration" description="Default and maximum set by policy (at most 4h)" placeholder="1h" value={ttl} onChange={(e) => setTtl(e.currentTarget.value)} error={errors.ttl} />
          {problem && !Object.values(errors).some(Boolean) && <ProblemAlert problem={problem} />}
          <Button type="submit" color="orange" loading={busy} disabled={me.kind === 'service_account'}>Take break-glass access</Button>
        </Stack>
      </form>
      <Title order={2} size="h3">Post-use reviews</Title>
      <PageState loading={reviews.loading && !reviews.data} problem={reviews.problem}>
        {items.length === 0 ? <Text>No break-glass reviews.</Text> : items.map((r) => (
          <BreakGlassReviewCard key={r.id} review={r} mine={r.reviewer === me.handle} onDecided={reviews.reload} />
        ))}
      </PageState>
    </Stack>
  );
};
