import { readFileSync, writeFileSync } from 'node:fs';
import { withOcsfTable } from '../src/domain/ocsf-doc.js';

const path = new URL('../docs/siem.md', import.meta.url);
writeFileSync(path, withOcsfTable(readFileSync(path, 'utf8')));
