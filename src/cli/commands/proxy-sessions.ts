import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { TenureError } from '../../domain/errors.js';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** The recording's verdict in a word: `open` until the session ends. */
const verdict = (verified: boolean | 'purged' | null) => (verified === null ? 'open' : verified === 'purged' ? 'purged' : verified ? 'verified' : 'MISMATCH');

/**
 * Sessions recorded by the access proxy (docs/sessions.md). Named `proxy-session`, apart from the
 * web sign-in sessions of `tenure auth`, which are a different thing.
 */
/** What an SSH session ran and was refused: the asciicast's markers, with their time into the session. */
const markersOf = (asciicast: string) => asciicast.split('\n').slice(1).flatMap((line): { seconds: number | string; event: string }[] => {
  try {
    const [at, code, data] = JSON.parse(line) as [number, string, string];
    return code === 'm' ? [{ seconds: at, event: data }] : [];
  } catch { return [{ seconds: '', event: `UNREADABLE ${line}` }]; }
});

export const proxySessionCommands = (program: Command, rt: Runtime, run: Run): void => {
  const sessions = program.command('proxy-session').description('sessions recorded by the access proxy: who did what, verified against the audit chain');
  sessions.command('list').description('sessions I may read, newest first')
    .option('--grant <id>').option('--identity <handle>').option('--system <key>').option('--state <state>', 'open | ended')
    .action(run(async (o: { grant?: string; identity?: string; system?: string; state?: string }) => {
      const rows = await rt.api().listProxySessions({ grant: o.grant, identity: o.identity, system: o.system, state: o.state as 'open' });
      rt.print(rt.output.json ? rows : rows.map((s) => ({
        id: s.id, person: s.person, entitlement: s.entitlement, started: s.startedAt, ended: s.endedAt ?? '', reason: s.endReason ?? '',
        statements: s.statements ?? '', recording: verdict(s.verified),
      })));
    }));
  sessions.command('show <session>').description('one session with its recording: every statement, or for SSH what ran (the whole terminal with --asciicast)')
    .option('--asciicast <file>', 'SSH: write the recording to FILE, to play with `asciinema play FILE` (its sha256sum is the audited digest)')
    .action(run(async (session: string, o: { asciicast?: string }) => {
      const s = await rt.api().showProxySession({ session });
      if (o.asciicast !== undefined) {
        if (s.protocol !== 'ssh' || s.recordingBytes === null) throw new TenureError('input.invalid', 'this session has no asciicast (not SSH, or its recording was purged)', { field: 'asciicast' });
        const file = createWriteStream(o.asciicast, { mode: 0o600 });
        await rt.api().downloadProxySessionRecording(session, file);
        file.end();
        await finished(file);
      }
      if (rt.output.json) { rt.print(s); return; }
      rt.print({ id: s.id, person: s.person, grant: s.grant, entitlement: s.entitlement, account: s.account, role: s.role, client: s.clientAddress,
        started: s.startedAt, ended: s.endedAt ?? '', reason: s.endReason ?? '', recording: verdict(s.verified), sha256: s.auditedSha256 ?? '' });
      if (s.asciicast !== null) { rt.print(markersOf(s.asciicast)); return; }
      // The first page came with the session; a long one is read on, page after page.
      const timeline = s.timelineNextCursor === null ? s.timeline : await rt.api().listProxySessionTimeline({ session });
      rt.print(timeline.map((t) => ('text' in t
        ? { seq: t.seq, at: t.at, us: t.durationUs, rows: t.rows, error: t.error?.code ?? '', text: t.text }
        : { seq: t.seq, at: '', us: '', rows: '', error: 'UNREADABLE', text: t.unreadable })));
    }));
};
