import { Anchor, Button, Code, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { lazy, Suspense, useState, type ReactNode } from 'react';
import { api, problemOf, unwrap, type Problem, type ProxySessionDetail } from '../api/client';
import { useApi } from '../api/use-api';
import { PageState, ProblemAlert } from '../components/PageState';
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

/** The whole stored recording as a file: byte for byte what the audited SHA-256 covers. */
const Download = ({ s }: { s: ProxySessionDetail }) => (
  <Anchor href={`/v1/proxy-sessions/${encodeURIComponent(s.id)}/recording`} download>
    Download the whole recording ({bytesText(s.recordingBytes ?? 0)})
  </Anchor>
);

const bytesText = (bytes: number): string =>
  bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The first page of statements came with the session; a long session's next pages come when asked for. */
const Timeline = ({ s }: { s: ProxySessionDetail }) => {
  const [timeline, setTimeline] = useState(s.timeline);
  const [next, setNext] = useState(s.timelineNextCursor);
  const [loading, setLoading] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const more = async (cursor: string) => {
    setLoading(true);
    setProblem(undefined);
    try {
      const page = await unwrap(api.GET('/v1/proxy-sessions/{session}/timeline', { params: { path: { session: s.id }, query: { cursor } } }));
      setTimeline((shown) => [...shown, ...page.items]);
      setNext(page.nextCursor);
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setLoading(false);
    }
  };
  return (
    <Stack gap="xs">
      <StatementTimeline timeline={timeline} />
      {problem && <ProblemAlert problem={problem} />}
      {next && <Group><Button variant="default" onClick={() => void more(next)} loading={loading}>Load more statements</Button></Group>}
    </Stack>
  );
};

const Recording = ({ s }: { s: ProxySessionDetail }) => {
  if (s.verified === 'purged') return <Text>Retention deleted this recording; its digest stays in the audit chain.</Text>;
  const stored = (s.recordingBytes ?? 0) > 0;
  if (s.protocol === 'ssh') {
    return (
      <section aria-label="Terminal recording">
        <Title order={2} size="h3" mb="xs">Terminal recording</Title>
        {s.asciicast !== null ? (
          <Suspense fallback={<Text>Loading the player…</Text>}><SessionPlayer id={s.id} asciicast={s.asciicast} /></Suspense>
        ) : <Text>{stored ? 'Too long to play here: download it and play it with asciinema.' : 'Nothing recorded yet.'}</Text>}
        {stored && s.asciicast === null && <Download s={s} />}
      </section>
    );
  }
  return (
    <section aria-label="Statement timeline">
      <Title order={2} size="h3" mb="xs">Statement timeline</Title>
      <Timeline key={s.id} s={s} />
      {stored && <Download s={s} />}
    </section>
  );
};
