import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonBody } from './json-body.js';

const bytes = (text: string): Buffer => Buffer.from(text);

test('parses JSON nested up to the limit; one level more is refused before parsing', () => {
  assert.deepEqual(parseJsonBody(bytes('{"a": [[1], {"b": [2]}]}'), 4), { a: [[1], { b: [2] }] });
  assert.throws(() => parseJsonBody(bytes('{"a": [[1], {"b": [[2]]}]}'), 4), {
    code: 'SKIFF_BAD_TENSOR',
    message: 'the JSON body is nested too deeply (more than 4 levels, --max-json-depth)',
  });
  assert.throws(() => parseJsonBody(bytes('['.repeat(1_000_000) + ']'.repeat(1_000_000)), 32), {
    code: 'SKIFF_BAD_TENSOR',
  });
});

test('brackets inside strings, escaped quotes included, do not count', () => {
  assert.deepEqual(parseJsonBody(bytes('["[[[[\\"[[[{{{", "\\\\"]'), 1), ['[[[["[[[{{{', '\\']);
});

test('anything that is not JSON is SKIFF_BAD_REQUEST', () => {
  for (const text of ['', '{', '{"a":NaN}', 'nul', '\u00ff'])
    assert.throws(() => parseJsonBody(bytes(text), 32), {
      code: 'SKIFF_BAD_REQUEST',
      message: 'the request body is not valid JSON',
    });
});
