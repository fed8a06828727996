import { ERRORS } from './errors.js';

/** docs/errors.md is this text; a test fails when the two differ, so the catalogue cannot drift. */
export const renderErrorCatalogue = (): string => {
  const rows = Object.entries(ERRORS).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.exit} | ${e.title} |`);
  return [
    '# Error codes',
    '',
    'Every refusal carries one of these stable codes, the field at fault when there is one, and a message.',
    'The CLI exits with the exit code shown; the HTTP API answers with the status shown as `application/problem+json`.',
    'Generated from `src/domain/errors.ts` by `npm run docs:errors`; a test keeps the two in sync.',
    '',
    '| code | HTTP status | CLI exit | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
};
