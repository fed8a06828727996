import { Alert, Button, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useMemo, useState, type FormEvent } from 'react';
import { api, fieldError, problemOf, unwrap, type Me, type Problem } from '../api/client';
import { useApi } from '../api/use-api';
import { EntitlementPicker } from '../components/EntitlementPicker';
import { MyRequests } from '../components/MyRequests';
import { PageState, ProblemAlert } from '../components/PageState';
import { stageLabel } from '../components/StageList';
import { TierBadge } from '../components/TierBadge';
import { When } from '../components/When';

/** Ask for access: a searchable catalogue of what I may ask for, with the route and the longest window, before submitting. */
export const RequestPage = ({ me }: { me: Me }) => {
  const catalogue = useApi(() => unwrap(api.GET('/v1/catalogue')), []);
  const [entitlement, setEntitlement] = useState('');
  const [reason, setReason] = useState('');
  const [ticket, setTicket] = useState('');
  const [duration, setDuration] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const [submitted, setSubmitted] = useState<string>();
  const [version, setVersion] = useState(0);

  const items = useMemo(() => catalogue.data?.items ?? [], [catalogue.data]);
  const chosen = items.find((i) => i.key === entitlement);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    setSubmitted(undefined);
    try {
      const created = await unwrap(api.POST('/v1/requests', { body: {
        kind: 'new', justification: reason, duration, ...(entitlement.trim() ? { entitlement: entitlement.trim() } : {}), ...(ticket.trim() ? { ticket: ticket.trim() } : {}),
      } }));
      setSubmitted(`${created.entitlementKey}: waiting for ${created.stages.map((s) => stageLabel(s.kind).toLowerCase()).join(' → ')}`);
      // Only a success clears the form; on failure everything typed stays.
      setEntitlement(''); setReason(''); setTicket(''); setDuration('');
      setVersion((v) => v + 1);
      catalogue.reload();
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  };

  const entitlementError = fieldError(problem, 'entitlement', 'beneficiary');
  const reasonError = fieldError(problem, 'justification');
  const ticketError = fieldError(problem, 'ticket');
  const durationError = fieldError(problem, 'duration', 'endsAt', 'startsAt');
  const shownElsewhere = entitlementError ?? reasonError ?? ticketError ?? durationError;

  return (
    <Stack maw={720}>
      <Title order={1}>Request access</Title>
      {submitted && <Alert color="green" title="Request submitted" role="status">{submitted}</Alert>}
      <PageState loading={catalogue.loading && !catalogue.data} problem={catalogue.problem}>
        <form onSubmit={(e) => void submit(e)}>
          <Stack>
            <EntitlementPicker label="Entitlement" items={items} value={entitlement} onChange={setEntitlement} error={entitlementError} />
            {chosen && (
              <Stack gap={4} aria-live="polite">
                <Text size="sm">{chosen.name} on {chosen.systemName} <TierBadge tier={chosen.tier} /></Text>
                <Text size="sm">Approval route: {chosen.route.map(stageLabel).join(' → ')}</Text>
                <Text size="sm">Maximum duration: {chosen.maxDuration}</Text>
                {catalogue.data?.engagementEndsAt && <Text size="sm">Your engagement ends <When at={catalogue.data.engagementEndsAt} />.</Text>}
                {chosen.outOfScope && <Alert color="orange" role="note" title="Outside your engagement's scope">Security must approve this exception too.</Alert>}
                {chosen.held && <Alert color="yellow" role="note" title="Already held">Ask for an extension from My access instead.</Alert>}
                {chosen.pending && <Alert color="yellow" role="note" title="Already requested">A request for it is waiting for approval.</Alert>}
                {chosen.sodConflict && <Alert color="red" role="note" title="Separation of duties">Not allowed with {chosen.sodConflict}.</Alert>}
              </Stack>
            )}
            <Textarea label="Reason" required autosize minRows={2} value={reason} onChange={(e) => setReason(e.currentTarget.value)} error={reasonError} />
            <TextInput label="Ticket" placeholder="FIN-101" value={ticket} onChange={(e) => setTicket(e.currentTarget.value)} error={ticketError} />
            <TextInput label="Duration" required placeholder={chosen ? `up to ${chosen.maxDuration}` : '2h, 7d'} description="How long you need it: 2h, 7d"
              value={duration} onChange={(e) => setDuration(e.currentTarget.value)} error={durationError} />
            {problem && !shownElsewhere && <ProblemAlert problem={problem} />}
            <Button type="submit" loading={busy} disabled={me.kind === 'service_account'}>Submit request</Button>
          </Stack>
        </form>
      </PageState>
      <MyRequests version={version} />
    </Stack>
  );
};
