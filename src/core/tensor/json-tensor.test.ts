import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensorFromJson } from './json-tensor.js';

test('floats must be finite in their type: JSON overflow (1e999) and values past FP32/FP16 range are refused', () => {
  const cases: [string, number, string][] = [
    ['FP64', JSON.parse('1e999') as number, 'element 0 is Infinity'],
    ['FP32', -1e39, 'element 0 is -1e+39'],
    ['FP16', 70000, 'element 0 is 70000'],
  ];
  for (const [type, value, fragment] of cases) {
    assert.throws(
      () => tensorFromJson('x', type as 'FP32', [1], [value]),
      (error: Error & { code?: string }) =>
        error.code === 'SKIFF_BAD_TENSOR' &&
        error.message.startsWith(`input "x": ${fragment}, expected a finite number`),
      type,
    );
  }
  // The largest finite value of each type is still accepted.
  assert.equal(tensorFromJson('x', 'FP32', [1], [3.4028234663852886e38]).data[0], 3.4028234663852886e38);
  assert.equal(tensorFromJson('x', 'FP64', [1], [Number.MAX_VALUE]).data[0], Number.MAX_VALUE);
});
