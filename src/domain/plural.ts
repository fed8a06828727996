/**
 * "1 checkpoint", "3 checkpoints", "0 grants": a count with its noun in the right number, so that
 * messages read as sentences rather than "1 checkpoints" or "grant(s)". English only, as every
 * message of Tenure is; irregular nouns pass their plural.
 */
export const countOf = (count: number, singular: string, plural = `${singular}s`): string =>
  `${count} ${count === 1 ? singular : plural}`;
