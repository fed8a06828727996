/* global process, console, URL */
// `npm run build` (also run by `npm pack`): the package's compiled code in dist/, with what it reads
// at run time beside it, and the web console in web/dist. dist/ keeps src/'s layout, so the paths
// the code finds from import.meta.url (store/migrations, ../../web/dist, ../../examples) still hold.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (script, args = []) => execFileSync(process.execPath, [script, ...args], { cwd: root, stdio: 'inherit' });

// A clean dist/: a source file deleted since the last build must not linger as compiled code.
rmSync(`${root}dist`, { recursive: true, force: true });
run(createRequire(import.meta.url).resolve('typescript/bin/tsc'), ['-p', 'tsconfig.build.json']);
// The migrations are SQL and JSON, which tsc does not copy.
cpSync(`${root}src/store/migrations`, `${root}dist/store/migrations`, { recursive: true });
run('scripts/build-web.mjs');
console.log('built dist/ and web/dist/');
