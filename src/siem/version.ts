import { readFileSync } from 'node:fs';

/**
 * Tenure's version for `metadata.product.version`, from the package.json two levels up (dist/ keeps
 * src/'s layout, so this holds for the built package too); read once. 'unknown' rather than a failed
 * stream if the file is not where it should be.
 */
const readVersion = (): string => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
    return pkg.name === 'tenure' && pkg.version ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
};

let version: string | undefined;
export const productVersion = (): string => (version ??= readVersion());
