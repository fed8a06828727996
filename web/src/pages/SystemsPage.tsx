import { Badge, Card, Group, List, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { api, unwrap } from '../api/client';
import { useApi } from '../api/use-api';
import { PageState } from '../components/PageState';
import { TierBadge } from '../components/TierBadge';
import { When } from '../components/When';

/** Kinds of finding that reconciliation opens when a target and Tenure's grants disagree. */
const DRIFT = new Set(['access_without_grant', 'grant_without_access', 'access_of_inactive_identity', 'orphan_account', 'shared_account']);

/** Systems with their entitlements and the drift reconciliation last saw (from the findings I may read). */
export const SystemsPage = () => {
  const catalogue = useApi(() => unwrap(api.GET('/v1/catalogue')), []);
  const findings = useApi(() => unwrap(api.GET('/v1/findings', { params: { query: { limit: 5000 } } })), []);
  const systems = new Map<string, { name: string; entitlements: { key: string; tier: string; maxDuration: string }[] }>();
  for (const i of catalogue.data?.items ?? []) {
    const s = systems.get(i.system) ?? { name: i.systemName, entitlements: [] };
    s.entitlements.push({ key: i.key, tier: i.tier, maxDuration: i.maxDuration });
    systems.set(i.system, s);
  }
  const open = (findings.data?.items ?? []).filter((f) => f.status === 'open');
  return (
    <Stack maw={1200}>
      <Title order={1}>Systems</Title>
      <PageState loading={catalogue.loading && !catalogue.data} problem={catalogue.problem}>
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          {[...systems].map(([key, s]) => {
            const drift = open.filter((f) => f.system === key && DRIFT.has(f.kind));
            const lastSeen = drift.map((f) => f.lastSeenAt).sort().at(-1);
            return (
              <Card withBorder key={key} component="section" aria-label={s.name}>
                <Group justify="space-between"><Title order={2} size="h4">{s.name}</Title><Badge variant="light">{key}</Badge></Group>
                <Text size="sm" fw={700} mt="xs">Entitlements</Text>
                <List size="sm">{s.entitlements.map((e) => <List.Item key={e.key}>{e.key} <TierBadge tier={e.tier} /> up to {e.maxDuration}</List.Item>)}</List>
                <Text size="sm" mt="xs"><b>Open drift</b> {drift.length === 0 ? 'none seen' : `${drift.length} finding(s), last seen `}{lastSeen && <When at={lastSeen} />}</Text>
                <Text size="sm"><b>Other open findings</b> {open.filter((f) => f.system === key && !DRIFT.has(f.kind)).length}</Text>
              </Card>
            );
          })}
        </SimpleGrid>
      </PageState>
    </Stack>
  );
};
