import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { replaceImageOptionsDoc } from './render-image-options-doc.js';

test('docs/container.md lists every build and push option as the tables define them', () => {
  const doc = readFileSync(new URL('../../../docs/container.md', import.meta.url), 'utf8');
  assert.equal(doc, replaceImageOptionsDoc(doc), 'run: npm run docs');
});
