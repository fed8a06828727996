import { readFileSync } from 'node:fs';

/**
 * Tenure's version for `metadata.product.version`: from the package.json above this file, which is
 * two levels up from src/ and three from the built dist/; read once.
 */
const readVersion = (): string => {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tenure' && pkg.version) return pkg.version;
    } catch {
      // not at this level: try the next
    }
  }
  return 'unknown';
};

let version: string | undefined;
export const productVersion = (): string => (version ??= readVersion());
