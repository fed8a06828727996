import type { Config } from '../config.js';
import { TenureError } from '../domain/errors.js';
import type { Context } from '../work/context.js';
import { createDemoLinks, type DemoLink } from '../operations/create-demo-links.js';
import { DEMO_PERSONAS } from './demo.js';

/** Who gets a link: one person per part the console shows (request, approve twice, guard, audit, administer). */
export const DEMO_SIGN_IN_HANDLES = ['carl', 'sam', 'olivia', 'selma', 'audrey', 'ada'] as const;

/**
 * `serve --demo` hands out sign-in links that skip the identity provider, so it is refused wherever
 * real people's access could live: a PostgreSQL server (DATABASE_URL) or a production environment.
 * There, people sign in through OIDC only. Checked before the database is opened.
 */
export const refuseDemoOutsideEmbedded = (config: Pick<Config, 'databaseUrl'>, env: NodeJS.ProcessEnv): void => {
  if (config.databaseUrl) {
    throw new TenureError('demo.not_allowed', '--demo works only on the embedded database: unset DATABASE_URL, or sign in through OIDC (docs/authentication.md)');
  }
  if (env.NODE_ENV === 'production') {
    throw new TenureError('demo.not_allowed', '--demo is refused when NODE_ENV=production: people sign in through OIDC (docs/authentication.md)');
  }
};

const roleOf = (handle: string) => DEMO_PERSONAS.find(([h]) => h === handle)?.[1] ?? '';
const clockTime = (at: Date) => at.toTimeString().slice(0, 5);

/** Makes fresh links for the demo personas and prints them once; the secrets are not kept anywhere else. */
export const printDemoLinks = async (ctx: Context, publicUrl: string, write: (text: string) => void): Promise<DemoLink[]> => {
  const links = await createDemoLinks(ctx, { handles: DEMO_SIGN_IN_HANDLES, publicUrl });
  if (links.length === 0) {
    write('No demo personas in this database, so no sign-in links: load the demo into an empty data directory (tenure demo).\n');
    return links;
  }
  const width = Math.max(...links.map((l) => l.handle.length));
  write(`\nDemo sign-in links: open one in a browser to sign in as that person. Each works once, until ${clockTime(links[0]!.expiresAt)};\n`
    + 'restart with --demo for new ones. Outside the demo, people sign in through OIDC.\n');
  for (const link of links) write(`  ${link.handle.padEnd(width)}  ${link.url}  ${roleOf(link.handle)}\n`);
  write('\n');
  return links;
};
