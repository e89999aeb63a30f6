// Regenerates the options section of docs/kubernetes.md from the deploy option tables.
import { readFileSync, writeFileSync } from 'node:fs';
import { replaceDeployOptionsDoc } from './render-deploy-options-doc.js';

const file = new URL('../../../docs/kubernetes.md', import.meta.url);
writeFileSync(file, replaceDeployOptionsDoc(readFileSync(file, 'utf8')));
