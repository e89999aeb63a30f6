// docs/kubernetes.md must stay true to the code: its options section is the one the option tables render.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { replaceDeployOptionsDoc } from '../../src/config/render-deploy-options-doc.js';
import { repoRoot } from '../helpers/paths.js';

test('the options section of docs/kubernetes.md is current (npm run docs)', () => {
  const doc = readFileSync(path.join(repoRoot(), 'docs', 'kubernetes.md'), 'utf8');
  assert.equal(doc, replaceDeployOptionsDoc(doc));
});
