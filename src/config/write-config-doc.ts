// `npm run docs`: regenerates docs/config.md from the option table.
import { writeFileSync } from 'node:fs';
import { SERVE_OPTIONS } from './serve-options.js';
import { renderConfigDoc } from './render-config-doc.js';

writeFileSync(new URL('../../../docs/config.md', import.meta.url), renderConfigDoc(SERVE_OPTIONS));
