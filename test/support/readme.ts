/** The README's shell examples as commands, for tests that run them as written. */

/** The first ```sh block after the line `heading`. */
export const readmeShellBlock = (readme: string, heading: string): string => {
  const at = readme.split('\n').indexOf(heading);
  if (at < 0) throw new Error(`README has no heading '${heading}'`);
  const after = readme.split('\n').slice(at + 1).join('\n');
  const block = /```sh\n([\s\S]*?)\n```/.exec(after);
  if (!block) throw new Error(`no sh block after '${heading}'`);
  return block[1]!;
};

/** One entry a command: continuation lines joined, comment-only lines dropped; a trailing comment stays (bash ignores it). */
export const shellCommands = (block: string): string[] =>
  block.replace(/\\\n\s*/g, '').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
