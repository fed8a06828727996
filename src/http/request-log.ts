/**
 * Request logs that stay out of the way: every JSON line goes to a file, and only warnings and
 * errors (pino level 40 and up) also reach the terminal. `serve --demo` uses it so the sign-in links
 * are not buried under two lines per request, while a failure still shows where it happens.
 */
import { createWriteStream } from 'node:fs';

const WARN = 40;
const LEVEL = /"level":(\d+)/;

export interface RequestLog { file: string; write(line: string): void; close(): Promise<void> }

export const requestLogFile = (file: string, terminal: NodeJS.WritableStream = process.stderr): RequestLog => {
  const out = createWriteStream(file, { flags: 'a', mode: 0o600 });
  return {
    file,
    write: (line) => {
      out.write(line);
      if (Number(LEVEL.exec(line)?.[1] ?? WARN) >= WARN) terminal.write(line);
    },
    close: () => new Promise((resolve) => { out.end(resolve); }),
  };
};
