import type { Command } from 'commander';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** The recording's verdict in a word: `open` until the session ends. */
const verdict = (verified: boolean | 'purged' | null) => (verified === null ? 'open' : verified === 'purged' ? 'purged' : verified ? 'verified' : 'MISMATCH');

/**
 * Sessions recorded by the access proxy (docs/sessions.md). Named `proxy-session`, apart from the
 * web sign-in sessions of `tenure auth`, which are a different thing.
 */
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
  sessions.command('show <session>').description('one session with its statement timeline')
    .action(run(async (session: string) => {
      const s = await rt.api().showProxySession({ session });
      if (rt.output.json) { rt.print(s); return; }
      rt.print({ id: s.id, person: s.person, grant: s.grant, entitlement: s.entitlement, account: s.account, role: s.role, client: s.clientAddress,
        started: s.startedAt, ended: s.endedAt ?? '', reason: s.endReason ?? '', recording: verdict(s.verified), sha256: s.auditedSha256 ?? '' });
      rt.print(s.timeline.map((t) => ('text' in t
        ? { seq: t.seq, at: t.at, us: t.durationUs, rows: t.rows, error: t.error?.code ?? '', text: t.text }
        : { seq: t.seq, at: '', us: '', rows: '', error: 'UNREADABLE', text: t.unreadable })));
    }));
};
