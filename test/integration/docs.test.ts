// Docs that must stay true to the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../../src/core/errors.js';
import { SERVE_OPTIONS } from '../../src/config/serve-options.js';
import { renderConfigDoc } from '../../src/config/render-config-doc.js';
import { ERROR_TABLE, GRPC_CODE } from '../../src/adapters/error-table.js';
import { repoRoot } from '../helpers/paths.js';

const read = (file: string): string => readFileSync(path.join(repoRoot(), file), 'utf8');

test('docs/errors.md lists every error code with its kind, and no code that does not exist', () => {
  const doc = read('docs/errors.md');
  const rows = [...doc.matchAll(/^\|\s*`(SKIFF_[A-Z_]+)`\s*\|\s*([a-z_]+)\s*\|/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(Object.fromEntries(rows), { ...ERROR_CODES });
});

test('docs/errors.md has the error table: each kind with its HTTP status, gRPC code, what clients see and what is logged', () => {
  const doc = read('docs/errors.md');
  const grpcName = (code: number): string =>
    Object.entries(GRPC_CODE).find(([, value]) => value === code)?.[0] ?? String(code);
  const rows = [
    ...doc.matchAll(
      /^\|\s*([a-z_]+)\s*\|\s*(\d{3})[^|]*\|\s*([A-Z_]+)\s*\|\s*(message|masked)\s*\|\s*(debug|error \+ stack)\s*\|/gm,
    ),
  ];
  const documented: Record<string, unknown> = Object.fromEntries(
    rows.map((m) => [m[1] ?? '', [Number(m[2]), m[3], m[4], m[5]]]),
  );
  const expected = Object.fromEntries(
    Object.entries(ERROR_TABLE).map(([kind, row]) => [
      kind,
      [row.http, grpcName(row.grpc), row.client, row.log === 'debug' ? 'debug' : 'error + stack'],
    ]),
  );
  assert.deepEqual(documented, expected);
  for (const [kind, row] of Object.entries(ERROR_TABLE)) {
    const retry = '503 + `Retry-After`';
    if (row.retryAfter)
      assert.ok(
        doc.split('\n').some((line) => line.startsWith(`| ${kind} `) && line.includes(retry)),
        kind,
      );
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
