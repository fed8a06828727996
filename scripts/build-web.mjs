/* global process, console, URL */
// Builds the web console (web/dist) with Vite, but only when it is missing or older than its sources,
// so `npm start` and the browser tests can call it on every run for the price of a few stat calls.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('../web/', import.meta.url));
const dist = join(web, 'dist', 'index.html');
const sources = [join(web, 'src'), join(web, 'public'), join(web, 'index.html'), join(web, 'vite.config.ts')];

/** The newest modification time among the files at or under `path` (0 when it does not exist). */
const newest = async (path) => {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(path);
  const times = await Promise.all(entries.map((entry) => newest(join(path, entry))));
  return Math.max(0, ...times);
};

const built = (await stat(dist).catch(() => undefined))?.mtimeMs ?? 0;
const changed = Math.max(...(await Promise.all(sources.map(newest))));
if (built > 0 && built >= changed && !process.argv.includes('--force')) {
  process.exit(0);
}
try {
  const { build } = await import('vite');
  await build({ configFile: join(web, 'vite.config.ts'), logLevel: 'warn' });
  console.log('web console built in web/dist');
} catch (error) {
  console.error(`web console build failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
