import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The modules of the named packages; `[\\/]` matches either path separator, so it works on Windows too. */
const pkg = (...names: string[]) => new RegExp(`node_modules[\\\\/](${names.join('|').replaceAll('/', '[\\\\/]')})[\\\\/]`);

/** The console is plain static files served by `tenure serve` itself, from web/dist at the site root. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    rolldownOptions: {
      output: {
        // Pages are lazy chunks (src/lazy-pages.ts). Vendor code sits in chunks of its own, whose hashes (and
        // browser caches) survive releases that change only our code. A group also takes in its members' dependencies not
        // claimed by a higher-priority group, so the charts group gets recharts' d3 and friends but not React or
        // Mantine core; it is only reachable from the Findings page, so only that page downloads it. Our own
        // modules that two or more pages use (DataTable, When...) share one small chunk rather than each being a
        // chunk, and a request, of a few hundred bytes.
        codeSplitting: {
          groups: [
            { name: 'react', test: pkg('react', 'react-dom', 'scheduler'), priority: 30 },
            { name: 'mantine', test: pkg('@mantine/core', '@mantine/hooks'), priority: 20 },
            { name: 'charts', test: pkg('@mantine/charts', 'recharts'), priority: 10 },
            { name: 'shared', test: (id) => !id.includes('node_modules'), minShareCount: 2 },
          ],
        },
      },
    },
  },
  // `vite dev` forwards API and sign-in calls to a running `tenure serve`.
  server: { proxy: { '/v1': 'http://127.0.0.1:8080', '/auth': 'http://127.0.0.1:8080' } },
});
