/* global process, console, URL */
// Refreshes the README's pictures in docs/screenshots: the browser tests write their screenshots to a
// temporary directory on every run (a clean clone stays clean after `npm test`); this runs them once
// more into docs/screenshots, with every clock (the server's, the tests', the browser's) starting at
// one fixed instant, so two runs draw the same dates and only a real change of the console shows in git.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const FIXED_NOW = '2026-11-30T09:30:00.000Z';
const clock = pathToFileURL(fileURLToPath(new URL('./fixed-clock.mjs', import.meta.url))).href;
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', 'test/web-e2e.test.ts'], {
  cwd: root, stdio: 'inherit',
  env: {
    ...process.env, TENURE_FIXED_NOW: FIXED_NOW, TENURE_SCREENSHOTS_DIR: fileURLToPath(new URL('../docs/screenshots', import.meta.url)),
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${clock}`.trim(),
  },
});
if (run.status !== 0) console.error('the browser tests failed: docs/screenshots may be partly refreshed');
process.exit(run.status ?? 1);
