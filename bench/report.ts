import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';

export interface BenchResult { name: string; backend: string; n: number; medianMs: number; perSecond: number; target?: string }

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Runs `fn` `runs` times (after `prepare` each time, untimed) and reports the median. */
export const measure = async (
  name: string, backend: string, n: number, runs: number, prepare: () => Promise<void>, fn: () => Promise<void>, target?: string,
): Promise<BenchResult> => {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    await prepare();
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  const medianMs = median(times);
  return { name, backend, n, medianMs, perSecond: n / (medianMs / 1000), ...(target ? { target } : {}) };
};

export const machine = () => ({
  host: hostname(), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, at: new Date().toISOString(),
});

/** NaN: a latency row, where a rate means nothing. */
const fmt = (n: number) => (Number.isNaN(n) ? '—' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

export const renderTable = (results: BenchResult[]): string => {
  const rows = [['benchmark', 'backend', 'n', 'median ms', 'per second', 'target'],
    ...results.map((r) => [r.name, r.backend, String(r.n), fmt(r.medianMs), fmt(r.perSecond), r.target ?? ''])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
};

/** Prints the table and writes it, with the machine it ran on, to bench/results/. */
export const writeReport = (results: BenchResult[], dir: string, label: string): string => {
  const m = machine();
  const table = renderTable(results);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${m.at.slice(0, 19).replace(/[:T]/g, '-')}-${label}.md`);
  writeFileSync(file, `# Tenure benchmarks (${label})\n\nMachine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, host ${m.host}, ${m.at}\n\n${table}\n\n` +
    `\`\`\`json\n${JSON.stringify({ machine: m, results }, null, 2)}\n\`\`\`\n`);
  return file;
};
