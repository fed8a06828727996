import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const DESTINATION = fileURLToPath(new URL('../src/http/log-destination.ts', import.meta.url));
const METRICS = fileURLToPath(new URL('../src/metrics/process.ts', import.meta.url));

/** A child writing `lines` lines of `bytes` each through serve's stderr destination, then saying what it holds. */
const writer = (lines: number, bytes: number, exitAtOnce: boolean) => `
  import { writeSync } from 'node:fs';
  import { stderrDestination } from ${JSON.stringify(DESTINATION)};
  import { processRegistry } from ${JSON.stringify(METRICS)};
  const out = stderrDestination();
  const pad = 'x'.repeat(${bytes});
  for (let i = 0; i < ${lines}; i += 1) out.write(i + ' ' + pad + '\\n');
  const dropped = (await processRegistry.getSingleMetric('tenure_log_lines_dropped_total').get()).values[0]?.value ?? 0;
  globalThis.gc?.();
  writeSync(1, JSON.stringify({ dropped, heapMiB: process.memoryUsage().heapUsed / 1048576 }) + '\\n');
  ${exitAtOnce ? 'process.exit(0);' : ''}
`;

const run = async (code: string, readStderrAtOnce: boolean) => {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += String(chunk); });
  const chunks: Buffer[] = [];
  const readStderr = () => child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk)).resume();
  if (readStderrAtOnce) readStderr();
  else child.stderr.pause();
  while (!stdout.includes('\n')) await once(child.stdout, 'data');
  if (!readStderrAtOnce) readStderr();
  const [exitCode] = await once(child, 'close') as [number];
  return { exitCode, report: JSON.parse(stdout) as { dropped: number; heapMiB: number }, stderr: Buffer.concat(chunks).toString('utf8') };
};

describe("serve's log destination", () => {
  it('every line reaches standard error in order, even when the process exits right after writing', async () => {
    const { exitCode, report, stderr } = await run(writer(50_000, 100, true), true);
    assert.equal(exitCode, 0);
    assert.equal(report.dropped, 0);
    const lines = stderr.trimEnd().split('\n');
    assert.equal(lines.length, 50_000);
    lines.forEach((line, i) => assert.ok(line.startsWith(`${i} `), `line ${i} is out of place: ${line.slice(0, 20)}`));
  });

  it('a reader that stops reading costs the process at most 16 MiB: lines past that are dropped and counted', async () => {
    // 100 MiB of lines into a pipe nobody reads until the writer has reported.
    const { exitCode, report, stderr } = await run(writer(100_000, 1_024, false), false);
    assert.equal(exitCode, 0);
    assert.ok(report.dropped > 50_000, `only ${report.dropped} lines were dropped`);
    assert.ok(report.heapMiB < 64, `the writer holds ${report.heapMiB.toFixed(0)} MiB`);
    const arrived = stderr.trimEnd().split('\n');
    assert.equal(arrived.length + report.dropped, 100_000, 'every line arrived or was counted as dropped');
    assert.ok(arrived.every((line) => line.length === String(line.split(' ')[0]).length + 1 + 1_024), 'a line was cut');
  });
});
