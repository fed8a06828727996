import { and, eq } from 'drizzle-orm';
import { TenureError } from '../../../domain/errors.js';
import type { Executor } from '../../../store/database.js';
import { proxySessions } from '../../../store/schema-proxy.js';
import { loadActor, refuseUnless } from '../../authorize.js';
import { visibleSessions } from './scope.js';

/**
 * The session, when the actor may read it (scope.ts): a session that does not exist is not found,
 * one the actor may not read is refused. Every read of a session or its recording starts here.
 */
export const readableSession = async (exec: Executor, actorId: string | undefined, session: string) => {
  const acting = await loadActor(exec, actorId);
  const [found] = await exec.select({ id: proxySessions.id }).from(proxySessions).where(eq(proxySessions.id, session));
  if (!found) throw new TenureError('proxy_session.not_found', `no proxy session ${session}`, { field: 'session' });
  const [readable] = await exec.select({ protocol: proxySessions.protocol, purgedAt: proxySessions.recordingPurgedAt })
    .from(proxySessions).where(and(eq(proxySessions.id, session), visibleSessions(exec, acting)));
  refuseUnless(readable !== undefined, 'only the person, those who answer for them, the system\'s owners, security and auditors may read a session', 'session');
  return { protocol: readable!.protocol, purgedAt: readable!.purgedAt };
};
