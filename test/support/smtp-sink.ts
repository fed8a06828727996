import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Received { to: string[]; mail: ParsedMail }

/**
 * A real SMTP server (the smtp-server package) in this process on a free port of 127.0.0.1,
 * keeping every accepted message parsed back with mailparser. `stop()` and `start()` take it down
 * and bring it back on the same port, for the outage tests.
 */
export interface SmtpSink { url: string; received: Received[]; stop(): Promise<void>; start(): Promise<void> }

const server = (received: Received[]) => new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    const to = session.envelope.rcptTo.map((r) => r.address);
    simpleParser(stream).then((mail) => { received.push({ to, mail }); callback(); }, (error: Error) => callback(error));
  },
});

export const startSmtpSink = async (): Promise<SmtpSink> => {
  const received: Received[] = [];
  let current = server(received);
  const listen = (port: number) => new Promise<number>((resolve, reject) => {
    current.once('error', reject);
    current.listen(port, '127.0.0.1', () => resolve((current.server.address() as { port: number }).port));
  });
  const port = await listen(0);
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    stop: () => new Promise<void>((resolve) => current.close(() => resolve())),
    start: async () => { current = server(received); await listen(port); },
  };
};
