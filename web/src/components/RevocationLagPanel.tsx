import { BarChart } from '@mantine/charts';
import { Loader, Text } from '@mantine/core';
import { api, unwrap } from '../api/client';
import { useApi } from '../api/use-api';
import { spanText, spanTicks } from './Span';
import { When } from './When';

/**
 * How long access stayed in targets after its grant ended, over 30 days: the median and worst per day,
 * and what is still waiting. Open removals are named first, because lag that never finished is the worst.
 */
export const RevocationLagPanel = () => {
  const lag = useApi(() => unwrap(api.GET('/v1/stats/revocation-lag', { params: { query: { days: 30 } } })), []);
  if (lag.problem) return <Text size="sm" c="dimmed">Revocation lag could not be loaded: {lag.problem.detail}</Text>;
  const l = lag.data;
  if (!l) return <Loader size="sm" aria-label="Loading" />;
  const data = l.byDay.map((d) => ({ day: d.day.slice(5), median: d.medianMs ?? 0, worst: d.maxMs ?? 0 }));
  // Recharts would divide the range evenly (8h 20m, 16h 40m); a time axis reads better at round spans.
  const ticks = spanTicks(Math.max(1, ...data.map((d) => d.worst)));
  const slowest = l.bySystem.filter((s) => s.open > 0 || s.removed > 0).slice(0, 3)
    .map((s) => `${s.system}: worst ${spanText(s.maxMs)}${s.open > 0 ? `, ${s.open} open` : ''}`).join('; ');
  return (
    <>
      {l.removed === 0 ? <Text size="sm">No removals in 30 days.</Text> : (
        <BarChart h={200} data={data} dataKey="day" valueFormatter={(v) => spanText(v)}
          yAxisProps={{ width: 70, ticks: ticks, domain: [0, ticks.at(-1)!], interval: 0 }}
          series={[{ name: 'median', color: 'blue.6' }, { name: 'worst', color: 'red.7' }]} />
      )}
      <Text size="xs" c="dimmed">
        {l.removed} removals confirmed: median {spanText(l.medianMs)}, 95th percentile {spanText(l.p95Ms)}, worst {spanText(l.maxMs)}.{' '}
        {l.open > 0 ? <>Still open: {l.open}, the oldest due <When at={l.oldestOpenDueAt} />.</> : 'None still open.'}
        {slowest && ` ${slowest}.`}
      </Text>
    </>
  );
};
