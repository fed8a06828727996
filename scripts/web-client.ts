import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import { loadHttpConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import type { Store } from '../src/store/database.js';

/** Where the web console's typed client reads the API's types from (committed, checked by test/web-client.test.ts). */
export const SCHEMA_FILE = fileURLToPath(new URL('../web/src/api/schema.d.ts', import.meta.url));

const HEADER = '/** Generated from Tenure\'s OpenAPI document by `npm run web:client` (scripts/web-client.ts). Do not edit. */\n\n';

/**
 * The API's OpenAPI document, built in process. Registering routes touches no database and the
 * document depends on no environment (a default HTTP configuration, a fixed clock), so the result
 * is the same on every machine and the drift check is meaningful.
 */
export const openApiDocument = async (): Promise<OpenAPI3> => {
  const app = await buildApp({ store: {} as Store, clock: { now: () => new Date(0) }, http: loadHttpConfig({}) });
  try {
    await app.ready();
    return app.swagger() as unknown as OpenAPI3;
  } finally {
    await app.close();
  }
};

/** The text of web/src/api/schema.d.ts for the current API. */
export const generateClientSchema = async (): Promise<string> => {
  const ast = await openapiTS(await openApiDocument(), { silent: true, alphabetize: true });
  return HEADER + astToString(ast);
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(SCHEMA_FILE, await generateClientSchema());
  console.log(`wrote ${SCHEMA_FILE}`);
}
