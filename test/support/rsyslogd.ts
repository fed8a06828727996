import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, stopper } from './processes.js';

/**
 * A private rsyslogd for one test file: its own configuration, work directory and port, run in the
 * foreground as a child of the test. imtcp listens on 127.0.0.1 (with the gtls driver for TLS, from
 * Debian's rsyslog-gnutls) and omfile writes each message's raw text, exactly as received, one a
 * line. `stop()` ends it (the port is then refused: "receiver down"); `start()` again on the same port.
 */
export interface Rsyslogd {
  port: number;
  /** Raw messages received so far, in arrival order. */
  messages(): string[];
  /** Waits until at least `count` messages arrived (rsyslog writes the file after the connection closed). */
  waitFor(count: number): Promise<string[]>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

export interface Pki { dir: string; caFile: string; otherCaFile: string; certFile: string; keyFile: string }

const RSYSLOGD = '/usr/sbin/rsyslogd';

const openssl = (args: string[], cwd: string): void => {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    throw new Error(`openssl ${args.join(' ')} failed: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`);
  }
};

/** A throwaway CA, a server certificate it signs for 127.0.0.1 and localhost, and an unrelated second CA. */
export const makePki = (): Pki => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-siem-pki-'));
  const ca = (name: string) => openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`], dir);
  ca('test-ca');
  ca('other-ca');
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr'], dir);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'test-ca.pem', '-CAkey', 'test-ca.key', '-CAcreateserial', '-days', '2',
    '-extfile', 'san.ext', '-out', 'server.pem'], dir);
  return { dir, caFile: join(dir, 'test-ca.pem'), otherCaFile: join(dir, 'other-ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') };
};

const config = (dir: string, port: number, pki: Pki | undefined): string => [
  // maxMessageSize as docs/siem.md advises: rsyslog's default (8 KiB) would cut larger audit events.
  `global(workDirectory="${join(dir, 'work')}" maxMessageSize="256k"${pki ? ` defaultNetstreamDriverCAFile="${pki.caFile}" defaultNetstreamDriverCertFile="${pki.certFile}" defaultNetstreamDriverKeyFile="${pki.keyFile}"` : ''})`,
  pki
    ? 'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")'
    : 'module(load="imtcp")',
  `input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="received")`,
  'template(name="raw" type="string" string="%rawmsg%\\n")',
  `ruleset(name="received") { action(type="omfile" file="${join(dir, 'received.log')}" template="raw") }`,
  '',
].join('\n');

const listening = (port: number): Promise<boolean> => new Promise((resolve) => {
  const socket = connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
  socket.once('error', () => resolve(false));
});

export const startRsyslogd = async (options: { pki?: Pki } = {}): Promise<Rsyslogd> => {
  if (!existsSync(RSYSLOGD)) throw new Error('rsyslogd is not installed: apt-get install rsyslog rsyslog-gnutls');
  const dir = mkdtempSync(join(tmpdir(), 'tenure-rsyslogd-'));
  mkdirSync(join(dir, 'work'));
  const port = await freePort();
  writeFileSync(join(dir, 'rsyslog.conf'), config(dir, port, options.pki));
  const file = join(dir, 'received.log');
  let stopRunning: (() => Promise<void>) | undefined;

  const start = async (): Promise<void> => {
    const child = spawn(RSYSLOGD, ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-8_000); });
    // stopper() removes the directory it is given: an empty one of its own, so the received file outlives a stop.
    stopRunning = stopper(child, mkdtempSync(join(dir, 'run-')), 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (!(await listening(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stopRunning();
        throw new Error(`rsyslogd did not start listening on ${port}: ${stderr}`);
      }
      await sleep(50);
    }
  };
  const messages = (): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
  const stop = async (): Promise<void> => { await stopRunning?.(); stopRunning = undefined; };
  await start();
  return {
    port, messages, start, stop,
    waitFor: async (count) => {
      const deadline = Date.now() + 10_000;
      while (messages().length < count) {
        if (Date.now() > deadline) throw new Error(`rsyslogd wrote ${messages().length} messages, expected ${count}`);
        await sleep(50);
      }
      return messages();
    },
    close: async () => { await stop(); rmSync(dir, { recursive: true, force: true }); },
  };
};
