import { Anchor, Code, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { lazy, Suspense, type ReactNode } from 'react';
import { api, unwrap, type ProxySessionDetail } from '../api/client';
import { useApi } from '../api/use-api';
import { PageState } from '../components/PageState';
import { StatementTimeline } from '../components/StatementTimeline';
import { PROTOCOL, VerdictAlert, VerdictBadge } from '../components/SessionVerdict';
import { When } from '../components/When';
import { href } from '../router';

// The player (and its WebAssembly terminal) is a chunk of its own: only an SSH session's page downloads it.
const SessionPlayer = lazy(() => import('../components/SessionPlayer').then((m) => ({ default: m.SessionPlayer })));

const Fact = ({ label, children }: { label: string; children: ReactNode }) => (
  <div><Text size="sm" c="dimmed">{label}</Text><Text component="div">{children}</Text></div>
);

/** One proxied session: who, what, when and why it ended, its verdict against the audit chain, and its recording. */
export const SessionPage = ({ id }: { id: string }) => {
  const session = useApi(() => unwrap(api.GET('/v1/proxy-sessions/{session}', { params: { path: { session: id } } })), [id]);
  const s = session.data;
  return (
    <Stack maw={1300}>
      <Anchor href={href('sessions')}>All sessions</Anchor>
      <PageState loading={session.loading && !s} problem={session.problem}>
        {s && <SessionView s={s} />}
      </PageState>
    </Stack>
  );
};

const SessionView = ({ s }: { s: ProxySessionDetail }) => (
  <>
    <Group><Title order={1}>Session of {s.person} on {s.entitlement}</Title><VerdictBadge verified={s.verified} /></Group>
    <VerdictAlert verified={s.verified} />
    <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }}>
      <Fact label="Person"><Anchor href={href('people', s.person)}>{s.person}</Anchor></Fact>
      <Fact label="Entitlement">{s.entitlement} ({s.system})</Fact>
      <Fact label="Account">{s.account}{s.role !== s.account ? ` as ${s.role}` : ''}</Fact>
      <Fact label="Protocol">{PROTOCOL[s.protocol] ?? s.protocol}, from {s.clientAddress}</Fact>
      <Fact label="Started"><When at={s.startedAt} /></Fact>
      <Fact label="Ended">{s.endedAt ? <When at={s.endedAt} /> : 'still open'}</Fact>
      <Fact label="Why it ended">{s.endReason ?? '—'}</Fact>
      <Fact label={s.protocol === 'ssh' ? 'Recording lines' : 'Statements'}>{s.statements ?? '—'}</Fact>
      <Fact label="Grant"><Anchor href={href('sessions', 'grant', s.grant)}>sessions of this grant</Anchor></Fact>
      {s.recordingPurgedAt && <Fact label="Recording purged"><When at={s.recordingPurgedAt} /></Fact>}
    </SimpleGrid>
    <SimpleGrid cols={{ base: 1, md: 2 }}>
      <Fact label="SHA-256 in the audit chain"><Code style={{ wordBreak: 'break-all' }}>{s.auditedSha256 ?? '—'}</Code></Fact>
      <Fact label="SHA-256 on the session row"><Code style={{ wordBreak: 'break-all' }}>{s.recordingSha256 ?? '—'}</Code></Fact>
    </SimpleGrid>
    <Recording s={s} />
  </>
);

const Recording = ({ s }: { s: ProxySessionDetail }) => {
  if (s.verified === 'purged') return <Text>Retention deleted this recording; its digest stays in the audit chain.</Text>;
  if (s.protocol === 'ssh') {
    return (
      <section aria-label="Terminal recording">
        <Title order={2} size="h3" mb="xs">Terminal recording</Title>
        {s.asciicast === null ? <Text>Nothing recorded yet.</Text> : (
          <Suspense fallback={<Text>Loading the player…</Text>}><SessionPlayer id={s.id} asciicast={s.asciicast} /></Suspense>
        )}
      </section>
    );
  }
  return (
    <section aria-label="Statement timeline">
      <Title order={2} size="h3" mb="xs">Statement timeline</Title>
      <StatementTimeline timeline={s.timeline} />
    </section>
  );
};
