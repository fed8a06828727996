/**
 * One session channel of a proxied SSH connection: the client's pty, shell or command is opened on
 * the host as the same request, and bytes flow both ways while the recording sees them. What the
 * host prints is an asciicast `o` event, a resize is `r`, and what was asked (a shell, a command, a
 * signal, a subsystem) is a marker, so the recording says what ran even when nothing was printed.
 * Keystrokes are not kept, as asciinema does not keep them by default: what a terminal echoes is in
 * its output already, and what it does not echo is a password typed at a prompt, which must not be
 * stored. Input without a terminal (piped data) is counted, not kept. File transfers (the sftp
 * subsystem, legacy scp's `scp -t`/`-f`) are relayed with their operations recorded instead of their
 * bytes (file-transfer.ts), unless the entitlement refuses them; other subsystems, agent and X11
 * forwarding are refused, and recorded.
 */
import type { Client, ClientChannel, PseudoTtyInfo, ServerChannel, Session } from 'ssh2';
import type { AsciicastCode } from '../../domain/asciicast.js';
import { isScpTransfer, refuseFileTransfer, scpTap, sftpTap } from './file-transfer.js';

export interface ChannelHost {
  readonly upstream: Client;
  /** The grant's entitlement, as the policy names it, for what the person is told. */
  readonly entitlement: string;
  /** SFTP and scp are relayed; false when the entitlement says `file_transfer: false`. */
  readonly fileTransfer: boolean;
  record(code: AsciicastCode, data: string): void;
  /** While the recording's store is behind, a promise of its catching up: output waits for it, so memory stays bounded. */
  recordingBehind(): Promise<void> | undefined;
  /** Channels open now, so a notice or the end reaches the person's terminal. */
  readonly channels: Set<ServerChannel>;
  /** The taps of channels open now: the session's end has them write their last markers before its own. */
  readonly taps: Set<ChannelTap>;
}

/**
 * What a channel's relay does with the bytes besides passing them on: a terminal's output is
 * recorded, a file transfer's operations are. `output` and `input` answer false when the channel
 * must be closed instead (hostile input; the tap has recorded why).
 */
export interface ChannelTap {
  output(chunk: Buffer): boolean;
  input(chunk: Buffer): boolean;
  /** Once: the markers that sum the channel up, when it closes or the session ends. */
  finish(): void;
}

type Window = { rows: number; cols: number; height: number; width: number; term?: string };

/** Bytes as terminal text; a character split across two chunks is kept whole. Binary data is shown lossily. */
const decoderFor = () => {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  return (chunk: Buffer) => decoder.decode(chunk, { stream: true });
};

/** A shell's or command's channel: what the host prints is recorded, input without a terminal only counted. */
const terminalTap = (host: ChannelHost): ChannelTap => {
  const output = decoderFor();
  let piped = 0;
  let finished = false;
  return {
    output: (chunk) => { host.record('o', output(chunk)); return true; },
    input: (chunk) => { piped += chunk.length; return true; },
    finish: () => {
      if (!finished && piped > 0) host.record('m', `input: ${piped} bytes (not kept)`);
      finished = true;
    },
  };
};

/** Host output to the client through the tap; the exit status follows before the end, as the host sent it. */
const relay = (host: ChannelHost, client: ServerChannel, upstream: ClientChannel, tap: ChannelTap) => {
  const errors = decoderFor();
  host.channels.add(client);
  host.taps.add(tap);
  let exit: unknown[] | undefined;
  const cut = () => { upstream.close(); client.close(); };
  // The host's output waits for whichever is slower: the client reading it, or the recording storing it.
  let clientFull = false;
  let recordingBehind = false;
  const resumeWhenFree = () => { if (!clientFull && !recordingBehind) upstream.resume(); };
  upstream.on('data', (chunk: Buffer) => {
    if (!tap.output(chunk)) { cut(); return; }
    if (!client.write(chunk)) { clientFull = true; upstream.pause(); }
    const behind = recordingBehind ? undefined : host.recordingBehind();
    if (behind) {
      recordingBehind = true;
      upstream.pause();
      void behind.then(() => { recordingBehind = false; resumeWhenFree(); });
    }
  });
  upstream.stderr.on('data', (chunk: Buffer) => { host.record('o', errors(chunk)); client.stderr.write(chunk); });
  client.on('drain', () => { clientFull = false; resumeWhenFree(); });
  upstream.on('exit', (...args: unknown[]) => { exit = args; });
  upstream.on('close', () => {
    tap.finish();
    host.taps.delete(tap);
    if (exit !== undefined) {
      host.record('m', typeof exit[0] === 'number' ? `exit status ${exit[0]}` : `exit signal ${String(exit[0])}`);
      if (typeof exit[0] === 'number') client.exit(exit[0]);
      else client.exit(String(exit[0]), Boolean(exit[1]), String(exit[2] ?? ''));
    }
    client.end();
    host.channels.delete(client);
  });
  client.on('data', (chunk: Buffer) => {
    if (!tap.input(chunk)) { client.stderr.write('Tenure: the file transfer sent what the proxy refuses; it was closed\r\n'); cut(); return; }
    if (!upstream.write(chunk)) client.pause();
  });
  upstream.on('drain', () => client.resume());
  client.on('end', () => upstream.end());
  client.on('close', () => { upstream.close(); host.channels.delete(client); });
};

/** Serves one `session` channel the client opened. */
export const serveSessionChannel = (host: ChannelHost, session: Session): void => {
  let pty: Window | undefined;
  let upstream: ClientChannel | undefined;
  const env: Record<string, string> = {};
  session.on('pty', (accept, _reject, info: PseudoTtyInfo & { term?: string }) => {
    pty = { rows: info.rows, cols: info.cols, height: info.height, width: info.width, term: info.term ?? 'xterm' };
    host.record('r', `${info.cols}x${info.rows}`);
    accept?.();
  });
  session.on('window-change', (accept, _reject, info) => {
    upstream?.setWindow(info.rows, info.cols, info.height, info.width);
    host.record('r', `${info.cols}x${info.rows}`);
    accept?.();
  });
  // Only the locale passes, as sshd's default AcceptEnv does; anything else could change what runs.
  session.on('env', (accept, reject, info) => {
    if (/^(LANG|LC_[A-Z]+)$/.test(info.key)) { env[info.key] = info.val; accept?.(); } else reject?.();
  });
  session.on('signal', (accept, _reject, info) => { upstream?.signal(info.name); host.record('m', `signal ${info.name}`); accept?.(); });
  session.on('subsystem', (accept, reject, info) => {
    if (info.name !== 'sftp') { host.record('m', `refused: subsystem ${info.name}`); reject(); return; }
    if (!host.fileTransfer) { refuseFileTransfer(host, 'subsystem sftp', accept); return; }
    open('subsystem sftp', (done) => host.upstream.subsys('sftp', done), accept, sftpTap(host));
  });
  // Both would let the host reach back into the person's machine, which no entitlement allows.
  session.on('auth-agent', (_accept, reject) => { host.record('m', 'refused: agent forwarding'); reject?.(); });
  session.on('x11', (_accept, reject) => { host.record('m', 'refused: X11 forwarding'); reject?.(); });
  // The client's request is accepted at once: ssh2 drops channel data that arrives before, and a
  // client may type ahead while the host is still being reached. The channel holds it until relayed.
  const open = (what: string, start: (done: (error: Error | undefined, channel: ClientChannel) => void) => void, accept: () => ServerChannel,
    tap: ChannelTap = terminalTap(host)) => {
    host.record('m', what);
    const client = accept();
    start((error, channel) => {
      if (!error) { upstream = channel; relay(host, client, channel, tap); return; }
      host.record('m', `the host refused: ${error.message}`);
      client.stderr.write(`Tenure: the host refused: ${error.message}\r\n`);
      client.exit(1);
      client.end();
    });
  };
  session.on('shell', (accept) => open('shell', (done) => {
    host.upstream.shell(pty ?? false, { env }, done);
  }, accept));
  session.on('exec', (accept, _reject, info) => {
    const scp = isScpTransfer(info.command);
    if (scp && !host.fileTransfer) { refuseFileTransfer(host, `exec: ${info.command}`, accept); return; }
    open(`exec: ${info.command}`, (done) => {
      host.upstream.exec(info.command, { env, ...(pty ? { pty } : {}) }, done);
    }, accept, scp ? scpTap(host) : terminalTap(host));
  });
};
