import { BarChart, DonutChart, LineChart } from '@mantine/charts';
import { Card, SimpleGrid, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { api, unwrap, type Finding, type Me } from '../api/client';
import { can } from '../api/permissions';
import { useApi } from '../api/use-api';
import { RevocationLagPanel } from './RevocationLagPanel';

const DAY = 86_400_000;
const TIER_COLORS: Record<string, string> = { read: 'gray.6', standard: 'blue.6', privileged: 'red.7' };
const TIERS = Object.keys(TIER_COLORS);
const SEVERITY_COLORS: Record<string, string> = { critical: 'red.9', high: 'red.6', medium: 'orange.6', low: 'yellow.6', info: 'gray.5' };
/** Most severe first: the order the severity chart and its summary list them in, whatever order the findings came in. */
const SEVERITIES = Object.keys(SEVERITY_COLORS);

const count = <T,>(items: T[], key: (item: T) => string) => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
};

/** Live grants ending on each of the next 14 days: where the renewals and removals will come from. */
const expiringByDay = (grants: { endsAt?: string | null }[], now: number) => Array.from({ length: 14 }, (_, i) => {
  const from = now + i * DAY;
  const ending = grants.filter((g) => g.endsAt && Date.parse(g.endsAt) >= from && Date.parse(g.endsAt) < from + DAY).length;
  return { day: new Date(from).toISOString().slice(5, 10), ending };
});

/**
 * Findings open at some time on each of the last 30 days (today's up to now), rebuilt from when each
 * was opened and resolved: one that opened and closed within a day still shows on that day.
 */
const openOverTime = (findings: Finding[], now: number) => Array.from({ length: 30 }, (_, i) => {
  const end = now - (29 - i) * DAY;
  const start = end - DAY;
  const open = findings.filter((f) => Date.parse(f.openedAt) <= end && (!f.resolvedAt || Date.parse(f.resolvedAt) > start)).length;
  return { day: new Date(end).toISOString().slice(5, 10), open };
});

const Panel = ({ title, children }: { title: string; children: ReactNode }) => (
  <Card withBorder component="figure" m={0} aria-label={title}>
    <Title order={3} size="h5" mb="xs">{title}</Title>
    {children}
  </Card>
);

/** The dashboard's charts; each also has a text summary for screen readers. */
export const FindingsCharts = ({ findings, me }: { findings: Finding[]; me: Me }) => {
  const grants = useApi(() => unwrap(api.GET('/v1/grants', { params: { query: { status: 'live', limit: 5000 } } })), []);
  const now = Date.now();
  const open = findings.filter((f) => f.status === 'open');
  const byKind = [...count(open, (f) => f.kind)].map(([kind, n]) => ({ kind, open: n })).sort((a, b) => b.open - a.open || a.kind.localeCompare(b.kind));
  const bySeverity = [...count(open, (f) => f.severity)].map(([name, value]) => ({ name, value, color: SEVERITY_COLORS[name] ?? 'gray.5' }))
    .sort((a, b) => SEVERITIES.indexOf(a.name) - SEVERITIES.indexOf(b.name));
  const live = grants.data?.items ?? [];
  const byTier = [...count(live, (g) => g.tier)].map(([name, value]) => ({ name, value, color: TIER_COLORS[name] ?? 'gray.5' }))
    .sort((a, b) => TIERS.indexOf(a.name) - TIERS.indexOf(b.name));
  const soon = live.filter((g) => g.endsAt && Date.parse(g.endsAt) - now < 14 * DAY);
  const trend = openOverTime(findings, now);
  const text = (entries: { name: string; value: number }[]) => entries.map((e) => `${e.name}: ${e.value}`).join(', ') || 'none';
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }}>
      <Panel title="Open findings by kind">
        {byKind.length === 0 ? <Text size="sm">No open findings.</Text> : (
          <BarChart h={220} data={byKind} dataKey="kind" series={[{ name: 'open', color: 'orange.7' }]} orientation="vertical"
            yAxisProps={{ width: 200 }} xAxisProps={{ allowDecimals: false }} />
        )}
        <Text size="xs" c="dimmed">{byKind.map((k) => `${k.kind}: ${k.open}`).join(', ')}</Text>
      </Panel>
      <Panel title="Open findings by severity">
        {bySeverity.length === 0 ? <Text size="sm">No open findings.</Text> : <DonutChart data={bySeverity} withLabels withLabelsLine h={220} />}
        <Text size="xs" c="dimmed">{text(bySeverity)}</Text>
      </Panel>
      <Panel title="Findings open each day, last 30 days">
        <LineChart h={220} data={trend} dataKey="day" series={[{ name: 'open', color: 'red.7' }]} curveType="stepAfter" withDots={false} yAxisProps={{ allowDecimals: false }} />
        <Text size="xs" c="dimmed">Today: {trend.at(-1)?.open ?? 0}; 30 days ago: {trend[0]?.open ?? 0}</Text>
      </Panel>
      <Panel title={can(me, 'grant.read_all') ? 'Live grants by tier' : 'My live grants by tier'}>
        {byTier.length === 0 ? <Text size="sm">No live grants.</Text> : <DonutChart data={byTier} withLabels withLabelsLine h={180} />}
        <Text size="xs" c="dimmed">{text(byTier)}. Expiring within 14 days: {soon.length}.</Text>
      </Panel>
      <Panel title="Grants expiring in the next 14 days">
        {soon.length === 0 ? <Text size="sm">None.</Text> : (
          <BarChart h={180} data={expiringByDay(soon, now)} dataKey="day" yAxisProps={{ allowDecimals: false }} series={[{ name: 'ending', color: 'grape.6' }]} />
        )}
        <Text size="xs" c="dimmed">{soon.length} ending within 14 days.</Text>
      </Panel>
      {can(me, 'provisioning.read') && <Panel title="Revocation lag over 30 days"><RevocationLagPanel /></Panel>}
    </SimpleGrid>
  );
};
