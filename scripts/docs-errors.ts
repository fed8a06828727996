import { writeFileSync } from 'node:fs';
import { renderErrorCatalogue } from '../src/domain/error-catalogue.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorCatalogue());
