// `npm run docs`: regenerates what the docs take from the option tables: docs/config.md whole, and the options
// sections of docs/kubernetes.md and docs/container.md. Tests fail while the committed files differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { SERVE_OPTIONS } from './serve-options.js';
import { renderConfigDoc } from './render-config-doc.js';
import { replaceDeployOptionsDoc } from './render-deploy-options-doc.js';
import { replaceImageOptionsDoc } from './render-image-options-doc.js';

const doc = (name: string): URL => new URL(`../../../docs/${name}`, import.meta.url);

writeFileSync(doc('config.md'), renderConfigDoc(SERVE_OPTIONS));
for (const [name, replace] of [
  ['kubernetes.md', replaceDeployOptionsDoc],
  ['container.md', replaceImageOptionsDoc],
] as const) {
  writeFileSync(doc(name), replace(readFileSync(doc(name), 'utf8')));
}
