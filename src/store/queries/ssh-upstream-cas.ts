import { eq } from 'drizzle-orm';
import type { Executor } from '../database.js';
import { sshUpstreamCas } from '../schema-ssh.js';

/** A proxy's upstream CA, registered when the proxy starts (after checking it is no user CA). */
export const registerUpstreamCa = async (exec: Executor, fingerprint: string, now: Date): Promise<void> => {
  await exec.insert(sshUpstreamCas).values({ fingerprint, firstSeenAt: now, lastSeenAt: now })
    .onConflictDoUpdate({ target: sshUpstreamCas.fingerprint, set: { lastSeenAt: now } });
};

/** When a proxy first registered this CA as its upstream CA, or undefined when none did. */
export const upstreamCaSince = async (exec: Executor, fingerprint: string): Promise<Date | undefined> =>
  (await exec.select({ since: sshUpstreamCas.firstSeenAt }).from(sshUpstreamCas).where(eq(sshUpstreamCas.fingerprint, fingerprint)))[0]?.since;
