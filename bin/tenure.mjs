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
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
