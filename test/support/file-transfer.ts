import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { LOGIN, SSH_OPTIONS, type SshProxyWorld } from './ssh-proxy-world.js';

/** OpenSSH's file transfer clients through the SSH proxy, as carl, and a client that sends what they never would. */
const SFTP = '/usr/bin/sftp';
const SCP = '/usr/bin/scp';

export interface Run { code: number | null; stdout: string; stderr: string }

const run = (program: string, args: string[]): Promise<Run> => new Promise((resolve) => {
  const child = spawn(program, args, { env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => { stdout += t; });
  child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t; });
  child.on('close', (code) => resolve({ code, stdout, stderr }));
});

let batches = 0;

/** `sftp -b FILE`: the commands run one by one, and the first failing one (without a leading `-`) stops it. */
export const sftp = (p: SshProxyWorld, port: number, commands: string[]): Promise<Run> => {
  const batch = join(p.dir, `batch-${batches += 1}`);
  writeFileSync(batch, `${commands.join('\n')}\n`);
  return run(SFTP, [...SSH_OPTIONS, '-i', p.keys.carl.privatePath, '-P', String(port), '-b', batch, `${LOGIN}@127.0.0.1`]);
};

/** `scp ARGS` (SFTP underneath unless `-O`), the remote side named `LOGIN@127.0.0.1:PATH`. */
export const scp = (p: SshProxyWorld, port: number, args: string[]): Promise<Run> =>
  run(SCP, [...SSH_OPTIONS, '-i', p.keys.carl.privatePath, '-P', String(port), ...args]);

/** An `sftp -b -` kept open, reading commands as they are written; `run` resolves once the command is done, `send` at once. */
export const sftpSession = (p: SshProxyWorld, port: number, options: string[] = []) => {
  const child = spawn(SFTP, [...SSH_OPTIONS, ...options, '-i', p.keys.carl.privatePath, '-P', String(port), '-b', '-', `${LOGIN}@127.0.0.1`],
    { env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => { output += t; });
  child.stderr.setEncoding('utf8').on('data', (t: string) => { output += t; });
  child.stdin.on('error', () => undefined);
  let done = 0;
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    exited,
    output: () => output,
    /** Whether sftp's `ssh` (its connection to the proxy) still runs: it exits when the connection is closed. */
    connected: () => spawnSync('ps', ['--ppid', String(child.pid), '-o', 'comm='], { encoding: 'utf8' }).stdout.trim() === 'ssh',
    /** sftp runs its commands in order, so the answer to the `lpwd` after the command says the command is done. */
    run: async (command: string) => {
      child.stdin.write(`${command}\nlpwd\n`);
      done += 1;
      for (const deadline = Date.now() + 10_000; (output.match(/Local working directory/g) ?? []).length < done;) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`sftp did not finish ${command}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    send: (command: string) => child.stdin.write(`${command}\n`),
    kill: () => { if (child.exitCode === null) child.kill(); },
    /** Ends sftp's input, after `last` if given. */
    end: (last?: string) => child.stdin.end(last === undefined ? '' : `${last}\n`),
  };
};

/** The markers (`m` events) of asciicast lines. */
export const markersIn = (lines: string[]): string[] => lines.map((l) => JSON.parse(l) as unknown)
  .filter((e): e is [number, string, string] => Array.isArray(e) && e[1] === 'm').map((e) => e[2]);

const packet = (type: number, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1, 0);
  head[4] = type;
  return Buffer.concat([head, body]);
};
/** SSH_FXP_INIT, version 3. */
const INIT = packet(1, Buffer.from([0, 0, 0, 3]));

/** Resolves true when the channel closes within the time, false otherwise. */
const closes = (channel: ssh2.ClientChannel, ms = 3000) => new Promise<boolean>((resolve) => {
  const timer = setTimeout(() => resolve(false), ms);
  channel.on('close', () => { clearTimeout(timer); resolve(true); });
});

/** An SFTP channel, past the version exchange. */
const sftpChannel = (connection: ssh2.Client) => new Promise<ssh2.ClientChannel>((resolve, reject) => {
  connection.subsys('sftp', (error, channel) => {
    if (error) { reject(error); return; }
    channel.once('data', () => resolve(channel));
    channel.write(INIT);
  });
});

/**
 * Signs in as carl with ssh2 and, on two SFTP channels, sends a packet that declares a gigabyte, then
 * an OPEN whose path's length runs past the packet's end. Says whether each channel was closed.
 */
export const hostileSftp = async (p: SshProxyWorld, port: number): Promise<{ oversizedClosed: boolean; malformedClosed: boolean }> => {
  const connection = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    connection.on('ready', resolve).on('error', reject).connect({ host: '127.0.0.1', port, username: LOGIN,
      privateKey: readFileSync(p.keys.carl.privatePath), hostVerifier: () => true });
  });
  try {
    const oversized = await sftpChannel(connection);
    const oversizedClosed = closes(oversized);
    oversized.write(Buffer.from([0x40, 0, 0, 0, 3, 0, 0, 0, 1]));
    const malformed = await sftpChannel(connection);
    const malformedClosed = closes(malformed);
    // OPEN, id 7, then a path of 65,535 bytes announced in a packet of nine.
    malformed.write(packet(3, Buffer.from([0, 0, 0, 7, 0, 0, 0xff, 0xff])));
    return { oversizedClosed: await oversizedClosed, malformedClosed: await malformedClosed };
  } finally {
    connection.end();
  }
};
