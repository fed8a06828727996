import { Command, CommanderError } from 'commander';
import { accessCommandsNote } from './note.js';
import { grantCommands, requestCommands } from './commands/access.js';
import { engagementCommands, identityCommands, vendorCommands } from './commands/people.js';
import { setupCommands } from './commands/setup.js';
import { auditCommands, policyCommands } from './commands/governance.js';
import { dbCommands } from './commands/db.js';
import { tokenCommands } from './commands/tokens.js';
import { evidenceCommands } from './commands/evidence.js';
import { credentialCommands } from './commands/credentials.js';
import { breakGlassCommands } from './commands/break-glass.js';
import { hrCommands } from './commands/hr.js';
import { reviewCommands } from './commands/reviews.js';
import { provisioningCommands } from './commands/provisioning.js';
import { sshCommands } from './commands/ssh.js';
import { proxyCommands } from './commands/proxy.js';
import { proxySessionCommands } from './commands/proxy-sessions.js';
import { webhookCommands } from './commands/webhooks.js';
import { reportError } from './output.js';
import { Runtime } from './runtime.js';

const program = new Command('tenure')
  .description('Tenure: every grant has a named owner, a purpose and an end, and the end is enforced.')
  .option('--json', 'machine-readable output')
  .option('--as <handle>', 'act as this identity (or TENURE_ACTOR); not with --server')
  .option('--server <url>', 'call the API of a running Tenure server (or TENURE_SERVER), as the owner of TENURE_TOKEN')
  .addHelpText('after', accessCommandsNote)
  .exitOverride()
  .showHelpAfterError();

const rt = new Runtime(program);
program.hook('preAction', (_program, command) => rt.begin(command));
let exitCode = 0;

/** Wraps an action: every failure is reported the same way with the exit code of its error. */
const run = (action: (...args: never[]) => Promise<void>) => async (...args: unknown[]): Promise<void> => {
  try {
    await (action as (...a: unknown[]) => Promise<void>)(...args);
  } catch (error) {
    exitCode = reportError(error, rt.output);
  }
};

setupCommands(program, rt, run);
identityCommands(program, rt, run);
vendorCommands(program, rt, run);
engagementCommands(program, rt, run);
requestCommands(program, rt, run);
grantCommands(program, rt, run);
tokenCommands(program, rt, run);
webhookCommands(program, rt, run);
provisioningCommands(program, rt, run);
breakGlassCommands(program, rt, run);
hrCommands(program, rt, run);
reviewCommands(program, rt, run);
credentialCommands(program, rt, run);
evidenceCommands(program, rt, run);
sshCommands(program, rt, run);
proxyCommands(program, rt, run);
proxySessionCommands(program, rt, run);
policyCommands(program, rt, run);
auditCommands(program, rt, run);
dbCommands(program, rt, run);

// PGlite must be closed for its data directory to be left consistent, on a signal as on success.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (rt.handlesSignals) return; // serve and worker stop their loop first, then fall through to close
    void rt.close().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    exitCode = reportError(error, rt.output);
  }
} finally {
  await rt.close().catch((error: unknown) => { exitCode = reportError(error, rt.output); });
}
// A command may set process.exitCode for an outcome that is not an error but that a script must notice (a held HR batch).
process.exit(exitCode !== 0 ? exitCode : Number(process.exitCode ?? 0));
