/**
 * The recording of a proxied SSH session as an asciicast v2 file (docs.asciinema.org): a header
 * line, then one JSON array per event: `[seconds, code, data]`, where code is `o` (output), `r`
 * (resize, `COLSxROWS`) or `m` (a marker: what the proxy saw or refused). The proxy writes no `i`
 * (input) events: keystrokes a terminal does not echo are passwords. The lines
 * are stored and hashed as they are (domain/proxy-recording.ts), so the stored lines joined by
 * newlines are both a file asciinema plays and the text whose SHA-256 the audit chain carries. Pure.
 */
export type AsciicastCode = 'o' | 'r' | 'm';

export interface AsciicastHeader { width: number; height: number; startedAt: Date; title: string }

export const asciicastHeader = (h: AsciicastHeader): string =>
  JSON.stringify({ version: 2, width: h.width, height: h.height, timestamp: Math.floor(h.startedAt.getTime() / 1000), title: h.title });

/** Seconds since the start, to the microsecond, as asciinema writes them. */
export const asciicastEvent = (elapsedMs: number, code: AsciicastCode, data: string): string =>
  JSON.stringify([Math.round(elapsedMs * 1000) / 1e6, code, data]);
