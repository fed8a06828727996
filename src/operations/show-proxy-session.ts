import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { proxySessions } from '../store/schema-proxy.js';
import { loadActor, refuseUnless } from './authorize.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';
import { visibleSessions } from './lib/proxy-sessions/scope.js';
import { recordingLines } from './lib/proxy-sessions/verify.js';
import { sessionViews } from './lib/proxy-sessions/views.js';

export const Input = z.object({ session: z.uuid('must be a proxy session id') }).strict();

/** A statement record as the recorder writes it (domain/proxy-recording.ts canonicalStatement). */
export const Statement = z.object({
  seq: z.number(), at: z.string(), durationUs: z.number(), protocol: z.string(), text: z.string(), params: z.unknown(),
  tags: z.array(z.string()), rows: z.number(), error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

/** A stored line as a statement; one that is no longer a statement record (edited by hand) is shown as it is stored. */
const statementOf = (line: { seq: number; record: string }) => {
  let parsed: unknown;
  try { parsed = JSON.parse(line.record); } catch { parsed = undefined; }
  const statement = Statement.safeParse(parsed);
  return statement.success ? statement.data : { seq: line.seq, unreadable: line.record };
};

/** One proxied session with its recording (PostgreSQL: the statement timeline; SSH: the asciicast) and whether it matches the audit chain. */
export const showProxySession = async (ctx: Context, input: z.input<typeof Input>) => {
  const { session } = parseInput(Input, input);
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const [found] = await exec.select({ id: proxySessions.id }).from(proxySessions).where(eq(proxySessions.id, session));
  if (!found) throw new TenureError('proxy_session.not_found', `no proxy session ${session}`, { field: 'session' });
  const [view] = await sessionViews(exec, and(eq(proxySessions.id, session), visibleSessions(exec, acting)));
  refuseUnless(view !== undefined, 'only the person, those who answer for them, the system\'s owners, security and auditors may read a session', 'session');
  const lines = (await recordingLines(exec, [session])).get(session)!;
  // An SSH recording is an asciicast file, line for line: the text players read, and whose SHA-256 the chain carries.
  if (view!.protocol === 'ssh') return { ...view!, timeline: [], asciicast: lines.length > 0 ? lines.map((l) => l.record).join('\n') : null };
  return { ...view!, timeline: lines.map(statementOf), asciicast: null };
};
