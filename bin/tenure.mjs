#!/usr/bin/env node
// Which code runs is decided by what sits beside this file, never by timestamps:
// - an installed package has dist/ (compiled by `npm run build`, which `npm pack` runs) and no src/:
//   it runs the compiled JavaScript, so a start costs no compilation;
// - a checkout has src/: it always runs the TypeScript sources through tsx, as before, even when a
//   dist/ from an earlier build is lying around. The tests spawn this file, so a stale build can
//   never make them run old code, and there is still no build step to forget.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const beside = (path) => existsSync(new URL(path, import.meta.url));

if (!beside('../src/') && beside('../dist/cli/main.js')) {
  await import('../dist/cli/main.js');
} else {
  // tsx is a development dependency: a checkout installed with --omit=dev has none.
  const tsx = await import('tsx/esm/api').catch(() => undefined);
  if (!tsx) {
    process.stderr.write('error: this checkout runs its TypeScript sources through tsx, a development dependency that is not installed:'
      + ' run npm ci (without --omit=dev), or npm pack and install the package, which runs compiled code\n');
    process.exit(1);
  }
  tsx.register();
  await import('../src/cli/main.ts');
}
