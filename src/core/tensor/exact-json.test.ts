import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactJsonInteger, parseJsonExact } from './exact-json.js';
import { tensorFromJson, tensorToJson } from './json-tensor.js';

const EDGES = [
  '-9223372036854775808',
  '-9007199254740993',
  '-9007199254740992',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '9223372036854775807',
];

test('integers beyond 2^53 parse as exact bigints; safe integers and floats stay numbers', () => {
  const parsed = parseJsonExact(`[${EDGES.join(',')}, 1.5, 1e20, 18446744073709551615]`) as unknown[];
  assert.deepEqual(parsed, [
    -9223372036854775808n,
    -9007199254740993n,
    -9007199254740992n,
    9007199254740991,
    9007199254740992n,
    9007199254740993n,
    9223372036854775807n,
    1.5,
    1e20,
    18446744073709551615n,
  ]);
  // Without a long digit run the fast path answers, with the same values.
  assert.deepEqual(parseJsonExact('{"a":[1,-2,3.5]}'), { a: [1, -2, 3.5] });
});

test('INT64 and UINT64 round-trip exactly through JSON, edges included', () => {
  const int64 = parseJsonExact(`[${EDGES.join(',')}]`);
  const tensor = tensorFromJson('x', 'INT64', [EDGES.length], int64);
  assert.deepEqual(Array.from(tensor.data as BigInt64Array, String), EDGES);
  assert.equal(JSON.stringify(tensorToJson(tensor)), `[${EDGES.join(',')}]`);

  const unsigned = ['0', '9007199254740992', '18446744073709551615'];
  const u = tensorFromJson('x', 'UINT64', [3], parseJsonExact(`[${unsigned.join(',')}]`));
  assert.equal(JSON.stringify(tensorToJson(u)), `[${unsigned.join(',')}]`);
});

test('64-bit values out of range, or written as floats beyond 2^53, are refused', () => {
  const refused: [string, string, string][] = [
    ['INT64', '9223372036854775808', 'element 0 is 9223372036854775808'],
    ['INT64', '-9223372036854775809', 'element 0 is -9223372036854775809'],
    ['UINT64', '18446744073709551616', 'element 0 is 18446744073709551616'],
    ['UINT64', '-1', 'element 0 is -1'],
    // 2^53 + 1 written with a fraction has already lost its last digit: refused, not rounded.
    ['INT64', '9007199254740993.0', 'element 0 is 9007199254740992'],
    ['INT32', '9007199254740993', 'element 0 is 9007199254740993'],
  ];
  for (const [type, text, fragment] of refused) {
    assert.throws(
      () => tensorFromJson('x', type as 'INT64', [1], parseJsonExact(`[${text}]`)),
      (error: Error & { code?: string }) =>
        error.code === 'SKIFF_BAD_TENSOR' && error.message.startsWith(`input "x": ${fragment}, expected`),
      `${type} ${text}`,
    );
  }
  // A long integer literal given to a float input is that number.
  const fp64 = tensorFromJson('x', 'FP64', [1], parseJsonExact('[12345678901234567890]'));
  assert.equal(fp64.data[0], Number(12345678901234567890n));
});

test('exactJsonInteger writes plain numbers when exact, digits otherwise', () => {
  assert.equal(exactJsonInteger(5n), 5);
  assert.equal(JSON.stringify(exactJsonInteger(2n ** 63n - 1n)), '9223372036854775807');
});

test('floats with 17 significant digits, as Python writes them, stay numbers and take the fast path', () => {
  const text = '[0.12345678901234568, 1.2345678901234567e+30, 12345678901234567.5, -0.30000000000000004]';
  assert.deepEqual(parseJsonExact(text), JSON.parse(text));
});
