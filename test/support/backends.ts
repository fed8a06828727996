import { openEmbedded, openPostgres, type Store } from '../../src/store/database.js';
import { createScratchDatabase } from './postgres-server.js';

export type Backend = 'embedded' | 'postgres';

/** Both by default; TENURE_TEST_BACKENDS=embedded (or postgres) narrows a local run. */
export const BACKENDS: Backend[] = (process.env.TENURE_TEST_BACKENDS ?? 'embedded,postgres')
  .split(',').map((b) => b.trim()).filter((b): b is Backend => b === 'embedded' || b === 'postgres');

let template: Promise<Blob> | undefined;

/** Migrating PGlite takes seconds; cloning a migrated snapshot takes a fraction of that. */
const embeddedTemplate = (): Promise<Blob> => {
  template ??= (async () => {
    const store = await openEmbedded(undefined);
    const blob = await store.dump!();
    await store.close();
    return blob;
  })();
  return template;
};

/** A fresh, migrated, empty store on the given backend; closing it also drops a server database. */
export const freshStore = async (backend: Backend, options: { poolSize?: number } = {}): Promise<Store> => {
  if (backend === 'embedded') return openEmbedded(undefined, { template: await embeddedTemplate() });
  const scratch = await createScratchDatabase();
  const store = await openPostgres(scratch.url, options.poolSize ? { max: options.poolSize } : {});
  return { ...store, close: async () => { await store.close(); await scratch.drop(); } };
};
