import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { countOf } from '../../domain/plural.js';
import { renderEvidenceHtml } from '../../evidence/render-html.js';
import type { EvidencePack } from '../../operations/build-evidence-pack.js';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** `tenure evidence identity carl --html --out carl.html`: the evidence pack an auditor files. */
export const evidenceCommands = (program: Command, rt: Runtime, run: Run): void => {
  program.command('evidence <subject> <ref>').description('evidence pack of an identity, engagement or system, with audit chain positions')
    .option('--html', 'a readable page (print it to PDF) instead of JSON').option('--out <file>', 'write to a file instead of stdout')
    .action(run(async (subject: string, ref: string, o: PackOutput) => {
      writePack(rt, await rt.api().buildEvidencePack({ subject: subject as 'identity', ref }), o);
    }));
};

export interface PackOutput { html?: boolean; out?: string }

/** Writes a pack as JSON or HTML to stdout or a file (`tenure evidence`, `tenure vendor evidence`). */
export const writePack = (rt: Runtime, pack: Pick<EvidencePack, 'title' | 'timeline'>, o: PackOutput): void => {
  const text = o.html ? renderEvidenceHtml(pack as unknown as EvidencePack) : `${JSON.stringify(pack, null, 2)}\n`;
  if (!o.out) { process.stdout.write(text); return; }
  writeFileSync(o.out, text, { mode: 0o600 });
  const written = { file: resolve(o.out), format: o.html ? 'html' : 'json', bytes: Buffer.byteLength(text), events: pack.timeline.length };
  // The pack went to the file; say so, or a silent success reads like nothing happened.
  if (rt.output.json) rt.print(written);
  else process.stdout.write(`wrote the evidence pack of ${pack.title} (${countOf(written.events, 'audit event')}, ${written.format.toUpperCase()}, `
    + `${countOf(written.bytes, 'byte')}) to ${written.file}\n`);
};
