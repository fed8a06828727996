// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The import direction the README's architecture picture draws: each folder of src/ may import only
 * the folders listed for it (inner layers); everything else is refused by lint, so a use case that
 * reaches for the HTTP layer, or a rule in domain/ that reaches for storage, fails `npm test`.
 */
const INNER = ['domain', 'store', 'audit', 'work'];
const ADAPTERS = [...INNER, 'auth', 'ssh', 'connectors', 'policy', 'webhooks', 'siem', 'mail'];
const MAY_IMPORT = {
  domain: [],
  store: ['domain'],
  audit: ['domain', 'store'],
  work: ['domain', 'store', 'audit'],
  auth: ['domain'],
  ssh: ['domain'],
  connectors: ['domain', 'ssh'],
  policy: [...INNER, 'connectors'],
  webhooks: INNER,
  siem: INNER,
  mail: [...INNER, 'webhooks'],
  operations: ADAPTERS,
  decision: [...ADAPTERS, 'operations', 'metrics'],
  jobs: [...ADAPTERS, 'operations', 'metrics'],
  evidence: ['domain', 'operations'],
  metrics: ['domain', 'store'],
  http: [...ADAPTERS, 'operations', 'decision', 'jobs', 'evidence', 'metrics'],
  proxy: [...ADAPTERS, 'operations', 'decision', 'metrics'],
  cli: [...ADAPTERS, 'operations', 'decision', 'jobs', 'evidence', 'http', 'metrics', 'proxy'],
};
const FOLDERS = Object.keys(MAY_IMPORT);
const importDirection = Object.entries(MAY_IMPORT).map(([folder, allowed]) => {
  const refused = FOLDERS.filter((other) => other !== folder && !allowed.includes(other));
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: refused.length === 0 ? {} : {
      'no-restricted-imports': ['error', { patterns: [{
        regex: `^(\\.\\./)+(${refused.join('|')})/`,
        message: `src/${folder}/ may import only ${allowed.length ? allowed.join(', ') : 'itself'} (the architecture in README.md)`,
      }] }],
    },
  };
});

export default tseslint.config(
  { ignores: ['node_modules/', 'test-output/', 'src/store/migrations/', 'bench/results/', 'scratch/', 'web/dist/', 'dist/', 'web/src/api/schema.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: true, skipComments: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...importDirection,
  {
    files: ['bin/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly' } },
  },
);
