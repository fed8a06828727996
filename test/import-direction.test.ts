import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('..', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The import-direction messages lint gives `code` placed at `filePath` (the file need not exist). */
const refusals = async (filePath: string, code: string): Promise<string[]> => {
  const [result] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
};

describe('the import direction of README.md is enforced by lint', () => {
  const cases: { file: string; code: string; refused: boolean }[] = [
    { file: 'src/domain/planted.ts', code: "import { coreTables } from '../store/schema.js';\nexport const x = coreTables;\n", refused: true },
    { file: 'src/store/planted.ts', code: "import type { Work } from '../work/context.js';\nexport type X = Work;\n", refused: true },
    { file: 'src/operations/lib/hr/planted.ts', code: "import { problemOf } from '../../../http/problem.js';\nexport const x = problemOf;\n", refused: true },
    { file: 'src/policy/planted.ts', code: "import { authorize } from '../operations/authorize.js';\nexport const x = authorize;\n", refused: true },
    { file: 'src/webhooks/planted.ts', code: "import { runPass } from '../jobs/pass.js';\nexport const x = runPass;\n", refused: true },
    { file: 'src/http/planted.ts', code: "import { print } from '../cli/output.js';\nexport const x = print;\n", refused: true },
    { file: 'src/metrics/planted.ts', code: "import { runPass } from '../jobs/pass.js';\nexport const x = runPass;\n", refused: true },
    { file: 'src/jobs/planted.ts', code: "import { observeRevocation } from '../metrics/process.js';\nexport const x = observeRevocation;\n", refused: false },
    { file: 'src/operations/planted.ts', code: "import type { Work } from '../work/context.js';\nexport type X = Work;\n", refused: false },
    { file: 'src/jobs/provisioning/planted.ts', code: "import { authorize } from '../../operations/authorize.js';\nexport const x = authorize;\n", refused: false },
    { file: 'src/cli/planted.ts', code: "import { problemOf } from '../http/problem.js';\nexport const x = problemOf;\n", refused: false },
  ];
  for (const { file, code, refused } of cases) {
    const from = file.split('/')[1];
    const to = /from '(?:\.\.\/)+([a-z]+)\//.exec(code)![1];
    it(`${from}/ ${refused ? 'may not' : 'may'} import ${to}/`, async () => {
      const messages = await refusals(file, code);
      assert.equal(messages.length, refused ? 1 : 0, messages.join('\n'));
      if (refused) assert.match(messages[0]!, new RegExp(`src/${from}/ may import only`));
    });
  }
});
