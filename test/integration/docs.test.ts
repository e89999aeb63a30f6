// Docs that must stay true to the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../../src/core/errors.js';
import { SERVE_OPTIONS } from '../../src/config/serve-options.js';
import { renderConfigDoc } from '../../src/config/render-config-doc.js';
import { HTTP_STATUS } from '../../src/adapters/http/http-status.js';
import { repoRoot } from '../helpers/paths.js';

const read = (file: string): string => readFileSync(path.join(repoRoot(), file), 'utf8');

test('docs/errors.md lists every error code with its kind, and no code that does not exist', () => {
  const doc = read('docs/errors.md');
  const rows = [...doc.matchAll(/^\|\s*`(SKIFF_[A-Z_]+)`\s*\|\s*([a-z_]+)\s*\|/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(Object.fromEntries(rows), { ...ERROR_CODES });
});

test('docs/errors.md gives each kind the status the HTTP adapter uses', () => {
  const doc = read('docs/errors.md');
  for (const [kind, status] of Object.entries(HTTP_STATUS)) {
    assert.match(doc, new RegExp(`^\\|\\s*${kind}\\s*\\|\\s*${status}\\b`, 'm'), kind);
  }
});

test('docs/config.md is the one rendered from the option table (npm run docs)', () => {
  assert.equal(read('docs/config.md'), renderConfigDoc(SERVE_OPTIONS));
});

test('the README starts with the two commands: install-and-run, then npm test', () => {
  const readme = read('README.md');
  const commands = [...readme.matchAll(/```(?:sh|bash)?\n([\s\S]*?)```/g)].map((m) => (m[1] ?? '').trim());
  assert.equal(commands[0], 'npm ci && npx skiff serve');
  assert.equal(commands[1], 'npm test');
});
