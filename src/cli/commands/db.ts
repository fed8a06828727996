import type { Command } from 'commander';
import { TenureError } from '../../domain/errors.js';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

export const dbCommands = (program: Command, rt: Runtime, run: Run): void => {
  const db = program.command('db').description('the PostgreSQL server: roles for running Tenure (docs/audit.md)');
  db.command('grant-runtime <role>')
    .description('as the owner (TENURE_MIGRATION_DATABASE_URL, else DATABASE_URL): migrate, then let ROLE run serve and worker without power to rewrite the audit log')
    .action(run(async (role: string) => {
      rt.requireLocal();
      const ownerUrl = rt.config.migrationDatabaseUrl ?? rt.config.databaseUrl;
      if (!ownerUrl) throw new TenureError('input.invalid', 'db grant-runtime needs a PostgreSQL server: set DATABASE_URL (and TENURE_MIGRATION_DATABASE_URL for the owner)', { field: 'DATABASE_URL' });
      // Imported here: the database driver is the slowest module to load, and --help needs none of it.
      const [{ openPostgres }, { grantRuntimeRole }] = await Promise.all([import('../../store/database.js'), import('../../store/runtime-role.js')]);
      const store = await openPostgres(ownerUrl, { max: 1 });
      try {
        rt.print(await grantRuntimeRole(store.db, role));
      } finally {
        await store.close();
      }
    }));
};
