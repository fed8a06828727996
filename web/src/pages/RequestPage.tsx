import { Alert, Button, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useMemo, useState, type FormEvent } from 'react';
import { api, fieldError, problemOf, unwrap, type Me, type Problem } from '../api/client';
import { useApi } from '../api/use-api';
import { EntitlementPicker } from '../components/EntitlementPicker';
import { MyRequests } from '../components/MyRequests';
import { PageState, ProblemAlert } from '../components/PageState';
import { stageLabel } from '../components/StageList';
import { durationProblemText, maximumText } from '../components/duration-text';
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

  // A refusal was about the values as they were: once the person changes one, its red goes.
  const edit = (set: (value: string) => void) => (e: { currentTarget: { value: string } }) => { setProblem(undefined); set(e.currentTarget.value); };

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
  const maximum = chosen ? maximumText(chosen.maxDurationMs, catalogue.data?.engagementEndsAt) : undefined;
  const durationError = fieldError(problem, 'duration', 'endsAt', 'startsAt') && durationProblemText(problem!, maximum?.text);
  const shownElsewhere = entitlementError ?? reasonError ?? ticketError ?? durationError;

  return (
    <Stack maw={720}>
      <Title order={1}>Request access</Title>
      {submitted && <Alert color="green" title="Request submitted" role="status">{submitted}</Alert>}
      <PageState loading={catalogue.loading && !catalogue.data} problem={catalogue.problem}>
        <form onSubmit={(e) => void submit(e)}>
          <Stack>
            <EntitlementPicker label="Entitlement" items={items} value={entitlement} onChange={(v) => { setProblem(undefined); setEntitlement(v); }} error={entitlementError} />
            {chosen && (
              <Stack gap={4} aria-live="polite">
                <Text size="sm">{chosen.name} on {chosen.systemName} <TierBadge tier={chosen.tier} /></Text>
                <Text size="sm">Approval route: {chosen.route.map(stageLabel).join(' → ')}</Text>
                <Text size="sm" title={chosen.maxDuration}>Maximum duration: {maximum?.text}</Text>
                {catalogue.data?.engagementEndsAt && <Text size="sm">Your engagement ends <When at={catalogue.data.engagementEndsAt} />.</Text>}
                {chosen.outOfScope && <Alert color="orange" role="note" title="Outside your engagement's scope">Security must approve this exception too.</Alert>}
                {chosen.held && <Alert color="yellow" role="note" title="Already held">Ask for an extension from My access instead.</Alert>}
                {chosen.pending && <Alert color="yellow" role="note" title="Already requested">A request for it is waiting for approval.</Alert>}
                {chosen.evidence.ticketRequired && (
                  <Text size="sm">A ticket is required{chosen.evidence.ticketPatterns.length > 0 ? `, matching ${chosen.evidence.ticketPatterns.join(' and ')}` : ''}.</Text>
                )}
                {chosen.evidence.minJustification > 0 && <Text size="sm">The reason needs at least {chosen.evidence.minJustification} characters.</Text>}
                {chosen.sodConflict && <Alert color="red" role="note" title="Separation of duties">Not allowed with {chosen.sodConflict}.</Alert>}
              </Stack>
            )}
            <Textarea label="Reason" required autosize minRows={2} value={reason} onChange={edit(setReason)} error={reasonError} />
            <TextInput label="Ticket" placeholder="FIN-101" value={ticket} onChange={edit(setTicket)} error={ticketError} />
            <TextInput label="Duration" required placeholder="2h, 7d" description={`How long you need it: 2h, 7d${maximum ? `; at most ${maximum.text}` : ''}`}
              value={duration} onChange={edit(setDuration)} error={durationError} />
            {problem && !shownElsewhere && <ProblemAlert problem={problem} />}
            <Button type="submit" loading={busy} disabled={me.kind === 'service_account'}>Submit request</Button>
          </Stack>
        </form>
      </PageState>
      <MyRequests version={version} />
    </Stack>
  );
};
