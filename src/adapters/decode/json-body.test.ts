import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDepth, parseJsonBody } from './json-body.js';

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

test('integers beyond 2^53 come back exact wherever they stand; digits in fractions and strings leave the fast path', () => {
  const body =
    '{"f": [0.12345678901234567, -2.98765432109876543e-7], "i": [[9007199254740993, -18446744073709551615]]}';
  assert.deepEqual(parseJsonBody(bytes(body), 4), {
    f: [Number('0.12345678901234567'), Number('-2.98765432109876543e-7')],
    i: [[9007199254740993n, -18446744073709551615n]],
  });
  assert.deepEqual(parseJsonBody(bytes('[9007199254740993]'), 1), [9007199254740993n]);
  assert.deepEqual(parseJsonBody(bytes('{"n":-9223372036854775808}'), 1), { n: -9223372036854775808n });
  // The one pass over the bytes says whether a long integer may be there; the parse then agrees with it.
  assert.equal(checkDepth(bytes('[0.12345678901234567, 1.5e300, 123456789012345]'), 1), false);
  assert.equal(checkDepth(bytes('["12345678901234567890", {"k": "9007199254740993"}]'), 2), false);
  assert.equal(checkDepth(bytes('[1, 1234567890123456]'), 1), true);
  assert.equal(checkDepth(bytes('{"a":1.25,"b":12345678901234567}'), 1), true);
});
