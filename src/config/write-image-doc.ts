// Regenerates the options section of docs/container.md from the build and push option tables.
import { readFileSync, writeFileSync } from 'node:fs';
import { replaceImageOptionsDoc } from './render-image-options-doc.js';

const file = new URL('../../../docs/container.md', import.meta.url);
writeFileSync(file, replaceImageOptionsDoc(readFileSync(file, 'utf8')));
