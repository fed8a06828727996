import type { Writable } from 'node:stream';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';
import { readableSession } from './lib/proxy-sessions/readable.js';
import { recordingPages } from './lib/proxy-sessions/verify.js';

export const Input = z.object({ session: z.uuid('must be a proxy session id') }).strict();

/**
 * Checks that the actor may read the session's recording and that it is still kept; the answer is
 * what the recording is (an asciicast for SSH, JSON Lines of statements for PostgreSQL).
 */
export const openProxySessionRecording = async (ctx: Context, input: z.input<typeof Input>) => {
  const { session } = parseInput(Input, input);
  const { protocol, purgedAt } = await readableSession(ctx.store.db, ctx.actor.id, session);
  if (purgedAt) throw new TenureError('proxy_session.recording_purged', `the recording of ${session} was deleted by retention at ${purgedAt.toISOString()}`, { field: 'session' });
  return { session, protocol, mediaType: protocol === 'ssh' ? 'application/x-asciicast' : 'application/x-ndjson', extension: protocol === 'ssh' ? 'cast' : 'jsonl' };
};

/**
 * Writes the stored lines, in order, joined by newlines: exactly the bytes whose SHA-256 the
 * recorder computed and `proxy_session.ended` carries, so `sha256sum` of the download is the
 * audited digest. A page at a time, waiting for the reader: any length streams in bounded memory.
 */
export const writeProxySessionRecording = async (ctx: Context, session: string, out: Writable): Promise<void> => {
  let first = true;
  for await (const rows of recordingPages(ctx.store.db, [session])) {
    const text = (first ? '' : '\n') + rows.map((r) => r.record).join('\n');
    first = false;
    // A reader that went away ends the walk: nothing is left to send to.
    if (!out.write(text)) await new Promise<void>((resolve) => { out.once('drain', resolve); out.once('close', resolve); });
    if (out.destroyed) return;
  }
};
