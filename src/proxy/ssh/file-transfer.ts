/**
 * File transfer through the SSH proxy: the `sftp` subsystem (what `sftp` and, since OpenSSH 9,
 * `scp` use) and legacy scp (`scp -O`, an exec of `scp -t` or `scp -f` on the host). Both are relayed
 * over the proxy's own connection like a shell, and recorded by what was done, not by the bytes: for
 * SFTP each operation with its path and outcome (sftp-log.ts), for legacy scp the command and the
 * byte counts each way. An entitlement with `file_transfer: false` refuses both.
 */
import type { ServerChannel } from 'ssh2';
import type { ChannelHost, ChannelTap } from './channel.js';
import { SftpLog } from './sftp-log.js';

/**
 * The host's end of legacy scp: `scp` (any path to it) with `-t` (to the host) or `-f` (from it)
 * among its options, as OpenSSH's client sends it (`scp -v -r -p -t -- /path`). A command that runs
 * scp some other way (`sh -c 'scp -t …'`) is an ordinary command: recorded as one, output and all.
 */
export const isScpTransfer = (command: string): boolean => {
  const [program, ...args] = command.trim().split(/\s+/);
  if (program === undefined || !/(^|\/)scp$/.test(program)) return false;
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => /^-[A-Za-z]*[tf][A-Za-z]*$/.test(arg));
};

/** Tells the person why, records the refusal, and ends the channel as a command that failed. */
export const refuseFileTransfer = (host: ChannelHost, what: string, accept: () => ServerChannel): void => {
  host.record('m', `refused: ${what}`);
  const channel = accept();
  channel.stderr.write(`Tenure: file transfer (SFTP and scp) is not allowed for ${host.entitlement}\r\n`);
  channel.exit(1);
  channel.end();
};

/** Legacy scp's stream carries the files themselves: counted each way, never kept. */
export const scpTap = (host: ChannelHost): ChannelTap => {
  let output = 0;
  let input = 0;
  let finished = false;
  return {
    output: (chunk) => { output += chunk.length; return true; },
    input: (chunk) => { input += chunk.length; return true; },
    finish: () => {
      if (finished) return;
      finished = true;
      host.record('m', `scp: ${input} bytes to the host, ${output} bytes from it (not kept)`);
    },
  };
};

/**
 * The sftp subsystem's operations, recorded as markers. Whatever a client or host sends, reading it
 * must not take the proxy down: a fault in the reading is recorded and closes this transfer only.
 */
export const sftpTap = (host: ChannelHost): ChannelTap => {
  const log = new SftpLog((marker) => host.record('m', marker));
  const guarded = (read: () => { stop: boolean }): boolean => {
    try {
      return !read().stop;
    } catch (error) {
      host.record('m', `sftp: the proxy could not read the transfer (${(error as Error).message}); it was closed`);
      return false;
    }
  };
  return {
    output: (chunk) => guarded(() => log.host(chunk)),
    input: (chunk) => guarded(() => log.client(chunk)),
    finish: () => log.finish(),
  };
};
