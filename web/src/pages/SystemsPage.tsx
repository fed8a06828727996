import { Anchor, Badge, Card, Group, List, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { api, unwrap, type SystemView } from '../api/client';
import { useApi } from '../api/use-api';
import { PageState } from '../components/PageState';
import { spanText } from '../components/Span';
import { TierBadge } from '../components/TierBadge';
import { When } from '../components/When';
import { href } from '../router';

type Operations = NonNullable<SystemView['operations']>;

/** What each health word means to someone deciding whether to look closer; the worst condition is shown. */
const HEALTH: Record<Operations['health'], { color: string; label: string; means: string }> = {
  unsafe: { color: 'red', label: 'Unsafe connector', means: "the connector's own credentials reach far beyond its job (superuser, or a road to operating-system or all-data roles): see its finding" },
  held: { color: 'red', label: 'Revocations held', means: 'the mass-revocation brake holds removals until security confirms' },
  failing: { color: 'red', label: 'Failing', means: 'a job has used its attempts; access may not match the grants' },
  retrying: { color: 'orange', label: 'Retrying', means: 'a job failed and will be tried again' },
  drift: { color: 'orange', label: 'Drift', means: 'the target holds access the grants do not explain, or lacks access they give: see the open findings' },
  tasks_overdue: { color: 'orange', label: 'Tasks overdue', means: 'a manual task is past its due time' },
  not_reconciled: { color: 'yellow', label: 'Not reconciled', means: 'the target has never been compared with the grants' },
  reconciliation_overdue: { color: 'yellow', label: 'Reconciliation overdue', means: 'two scheduled comparisons have been missed' },
  manual: { color: 'gray', label: 'Manual', means: 'no connector: the technical owner carries out and confirms each change' },
  ok: { color: 'green', label: 'Healthy', means: 'jobs are flowing and the last comparison is recent' },
};

const Person = ({ handle }: { handle: string | null }) => handle ? <Anchor href={href('people', handle)}>{handle}</Anchor> : <span>—</span>;

const OperationsPanel = ({ ops }: { ops: Operations }) => {
  const health = HEALTH[ops.health];
  const open = Object.entries(ops.openJobs).map(([state, n]) => `${state.replace('_', ' ')}: ${n}`).join(', ');
  const run = ops.lastReconciliation;
  const drift = run ? Object.entries(run.drift).map(([kind, n]) => `${kind.replaceAll('_', ' ')}: ${n}`).join(', ') : '';
  return (
    <Stack gap={4} mt="xs">
      <Group gap="xs"><Text size="sm" fw={700}>Connector</Text><Text size="sm">{ops.connector}</Text>
        <Badge color={health.color} variant="light" title={health.means}>{health.label}</Badge></Group>
      <Text size="xs" c="dimmed">{health.means}.</Text>
      <Text size="sm"><b>Open jobs</b> {open || 'none'}{ops.overdueTasks > 0 && `; ${ops.overdueTasks} overdue`}</Text>
      {ops.lastError && <Text size="sm" c="red.8"><b>Last error</b> {ops.lastError}</Text>}
      {ops.reconcileMode && (
        <Text size="sm"><b>Reconciliation</b> {ops.reconcileMode === 'revoke' ? 'removes drift' : 'reports drift'}
          {ops.reconcileEveryMs ? `, every ${spanText(ops.reconcileEveryMs)}` : ', on demand'}</Text>
      )}
      {run ? (
        <>
          <Text size="sm"><b>Last reconciled</b> <When at={run.finishedAt} />: {run.accounts} accesses in the target, {run.liveGrants} live grants
            {run.revoked > 0 && `, ${run.revoked} removed`}{run.brakeHeld && ', removal held by the brake'}</Text>
          <Text size="sm"><b>Drift found</b> {drift || 'none'}</Text>
        </>
      ) : ops.reconcileMode && <Text size="sm"><b>Last reconciled</b> never</Text>}
      <Text size="sm"><b>Open drift findings</b> {ops.openDriftFindings === 0 ? 'none' : <Anchor href={href('findings')}>{ops.openDriftFindings}</Anchor>}</Text>
    </Stack>
  );
};

/** Systems with their owners and entitlements; for operators and owners, how removal is working there. */
export const SystemsPage = () => {
  const systems = useApi(() => unwrap(api.GET('/v1/systems')), []);
  return (
    <Stack maw={1200}>
      <Title order={1}>Systems</Title>
      <PageState loading={systems.loading && !systems.data} problem={systems.problem}>
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          {(systems.data?.items ?? []).map((s) => (
            <Card withBorder key={s.key} component="section" aria-label={s.name}>
              <Group justify="space-between"><Title order={2} size="h4">{s.name}</Title>
                <Group gap="xs"><Badge variant="outline" color="gray">{s.criticality}</Badge><Badge variant="light">{s.key}</Badge></Group></Group>
              <Text size="sm"><b>Business owner</b> <Person handle={s.businessOwner} /> · <b>Technical owner</b> <Person handle={s.technicalOwner} /></Text>
              <Text size="sm" fw={700} mt="xs">Entitlements</Text>
              <List size="sm">{s.entitlements.map((e) => (
                <List.Item key={e.key}>{e.name} ({e.key}) <TierBadge tier={e.tier} />{e.target && <Text span size="xs" c="dimmed"> → {e.target}</Text>}</List.Item>
              ))}</List>
              {s.operations ? <OperationsPanel ops={s.operations} />
                : <Text size="xs" c="dimmed" mt="xs">Connector state is shown to its owners, IAM, security and auditors.</Text>}
            </Card>
          ))}
        </SimpleGrid>
      </PageState>
    </Stack>
  );
};
