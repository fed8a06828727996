/**
 * One session channel of a proxied SSH connection: the client's pty, shell or command is opened on
 * the host as the same request, and bytes flow both ways while the recording sees them. What the
 * host prints is an asciicast `o` event, a resize is `r`, and what was asked (a shell, a command, a
 * signal, a subsystem) is a marker, so the recording says what ran even when nothing was printed.
 * Keystrokes are not kept, as asciinema does not keep them by default: what a terminal echoes is in
 * its output already, and what it does not echo is a password typed at a prompt, which must not be
 * stored. Input without a terminal (piped data) is counted, not kept. Subsystems (sftp), agent and X11
 * forwarding are refused, and recorded.
 */
import type { Client, ClientChannel, PseudoTtyInfo, ServerChannel, Session } from 'ssh2';
import type { AsciicastCode } from '../../domain/asciicast.js';

export interface ChannelHost {
  readonly upstream: Client;
  record(code: AsciicastCode, data: string): void;
  /** While the recording's store is behind, a promise of its catching up: output waits for it, so memory stays bounded. */
  recordingBehind(): Promise<void> | undefined;
  /** Channels open now, so a notice or the end reaches the person's terminal. */
  readonly channels: Set<ServerChannel>;
}

type Window = { rows: number; cols: number; height: number; width: number; term?: string };

/** Bytes as terminal text; a character split across two chunks is kept whole. Binary data is shown lossily. */
const decoderFor = () => {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  return (chunk: Buffer) => decoder.decode(chunk, { stream: true });
};

/** Host output to the client, recorded; the exit status follows before the end, as the host sent it. */
const relay = (host: ChannelHost, client: ServerChannel, upstream: ClientChannel) => {
  const output = decoderFor();
  const errors = decoderFor();
  let piped = 0;
  host.channels.add(client);
  let exit: unknown[] | undefined;
  // The host's output waits for whichever is slower: the client reading it, or the recording storing it.
  let clientFull = false;
  let recordingBehind = false;
  const resumeWhenFree = () => { if (!clientFull && !recordingBehind) upstream.resume(); };
  upstream.on('data', (chunk: Buffer) => {
    host.record('o', output(chunk));
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
    if (piped > 0) host.record('m', `input: ${piped} bytes (not kept)`);
    if (exit !== undefined) {
      host.record('m', typeof exit[0] === 'number' ? `exit status ${exit[0]}` : `exit signal ${String(exit[0])}`);
      if (typeof exit[0] === 'number') client.exit(exit[0]);
      else client.exit(String(exit[0]), Boolean(exit[1]), String(exit[2] ?? ''));
    }
    client.end();
    host.channels.delete(client);
  });
  client.on('data', (chunk: Buffer) => { piped += chunk.length; if (!upstream.write(chunk)) client.pause(); });
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
  session.on('subsystem', (_accept, reject, info) => { host.record('m', `refused: subsystem ${info.name}`); reject(); });
  // Both would let the host reach back into the person's machine, which no entitlement allows.
  session.on('auth-agent', (_accept, reject) => { host.record('m', 'refused: agent forwarding'); reject?.(); });
  session.on('x11', (_accept, reject) => { host.record('m', 'refused: X11 forwarding'); reject?.(); });
  // The client's request is accepted at once: ssh2 drops channel data that arrives before, and a
  // client may type ahead while the host is still being reached. The channel holds it until relayed.
  const open = (what: string, start: (done: (error: Error | undefined, channel: ClientChannel) => void) => void, accept: () => ServerChannel) => {
    host.record('m', what);
    const client = accept();
    start((error, channel) => {
      if (!error) { upstream = channel; relay(host, client, channel); return; }
      host.record('m', `the host refused: ${error.message}`);
      client.stderr.write(`Tenure: the host refused: ${error.message}\r\n`);
      client.exit(1);
      client.end();
    });
  };
  session.on('shell', (accept) => open('shell', (done) => {
    host.upstream.shell(pty ?? false, { env }, done);
  }, accept));
  session.on('exec', (accept, _reject, info) => open(`exec: ${info.command}`, (done) => {
    host.upstream.exec(info.command, { env, ...(pty ? { pty } : {}) }, done);
  }, accept));
};
