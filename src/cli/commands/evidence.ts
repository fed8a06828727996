import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { renderEvidenceHtml } from '../../evidence/render-html.js';
import type { EvidencePack } from '../../operations/build-evidence-pack.js';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** `tenure evidence identity carl --html --out carl.html`: the evidence pack an auditor files. */
export const evidenceCommands = (program: Command, rt: Runtime, run: Run): void => {
  program.command('evidence <subject> <ref>').description('evidence pack of an identity, engagement or system, with audit chain positions')
    .option('--html', 'a readable page (print it to PDF) instead of JSON').option('--out <file>', 'write to a file instead of stdout')
    .action(run(async (subject: string, ref: string, o: { html?: boolean; out?: string }) => {
      const pack = await rt.api().buildEvidencePack({ subject: subject as 'identity', ref });
      const text = o.html ? renderEvidenceHtml(pack as unknown as EvidencePack) : `${JSON.stringify(pack, null, 2)}\n`;
      if (o.out) writeFileSync(o.out, text, { mode: 0o600 });
      else process.stdout.write(text);
    }));
};
