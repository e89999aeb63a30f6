import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkElementCount,
  elementCount,
  float16ToNumber,
  makeTensor,
  numberAt,
  numberToFloat16,
} from './tensor.js';

const hex = (bits: number): string => `0x${bits.toString(16).padStart(4, '0')}`;

function isHalfNaN(bits: number): boolean {
  return (bits & 0x7c00) === 0x7c00 && (bits & 0x03ff) !== 0;
}

describe('numberToFloat16', () => {
  const KNOWN: readonly [string, number, number][] = [
    ['0', 0, 0x0000],
    ['-0', -0, 0x8000],
    ['1', 1, 0x3c00],
    ['-2', -2, 0xc000],
    ['0.5', 0.5, 0x3800],
    ['0.1 (nearest half is 0.0999755859375)', 0.1, 0x2e66],
    ['1/3', 1 / 3, 0x3555],
    ['65504, the largest finite half', 65504, 0x7bff],
    ['65519 rounds down to 65504', 65519, 0x7bff],
    ['65520 rounds to infinity', 65520, 0x7c00],
    ['-65520 rounds to -infinity', -65520, 0xfc00],
    ['1e6 overflows', 1e6, 0x7c00],
    ['Infinity', Infinity, 0x7c00],
    ['-Infinity', -Infinity, 0xfc00],
    ['2^-14, the smallest normal', 2 ** -14, 0x0400],
    ['2^-14 - 2^-24, the largest subnormal', 2 ** -14 - 2 ** -24, 0x03ff],
    ['2^-24, the smallest subnormal', 2 ** -24, 0x0001],
    ['-2^-24', -(2 ** -24), 0x8001],
    ['2^-26 flushes to zero', 2 ** -26, 0x0000],
    ['-2^-26 flushes to -0', -(2 ** -26), 0x8000],
    ['1e-10 flushes to zero', 1e-10, 0x0000],
  ];
  for (const [title, value, bits] of KNOWN) {
    test(`${title} -> ${hex(bits)}`, () => {
      assert.equal(hex(numberToFloat16(value)), hex(bits));
    });
  }

  test('NaN stays NaN', () => {
    assert.ok(isHalfNaN(numberToFloat16(NaN)), hex(numberToFloat16(NaN)));
  });

  const ROUNDING: readonly [string, number, number][] = [
    ['1 + 2^-11 is a tie: to even 1.0', 1 + 2 ** -11, 0x3c00],
    ['1 + 3*2^-11 is a tie: to even 1 + 2^-9', 1 + 3 * 2 ** -11, 0x3c02],
    ['just above the tie rounds up', 1 + 2 ** -11 + 2 ** -20, 0x3c01],
    ['just below the tie rounds down', 1 + 2 ** -11 - 2 ** -20, 0x3c00],
    ['2049 is a tie between 2048 and 2050: to even 2048', 2049, 0x6800],
    ['2051 is a tie between 2050 and 2052: to even 2052', 2051, 0x6802],
    ['2 - 2^-11 is a tie that carries into the exponent: 2.0', 2 - 2 ** -11, 0x4000],
    ['2^-25 is a subnormal tie between 0 and 2^-24: to even 0', 2 ** -25, 0x0000],
    ['3*2^-25 is a subnormal tie: to even 2*2^-24', 3 * 2 ** -25, 0x0002],
    ['just above 2^-25 rounds up to 2^-24', 2 ** -25 + 2 ** -30, 0x0001],
    ['just below 2^-14 rounds up out of the subnormals', 2 ** -14 - 2 ** -26, 0x0400],
  ];
  for (const [title, value, bits] of ROUNDING) {
    test(`round half to even: ${title} -> ${hex(bits)}`, () => {
      assert.equal(hex(numberToFloat16(value)), hex(bits));
    });
  }

  test('rounds a double just above a half-way point up, not through float32 onto the tie', () => {
    assert.equal(hex(numberToFloat16(1 + 2 ** -11 + 2 ** -40)), hex(0x3c01));
  });
});

describe('float16ToNumber', () => {
  const KNOWN: readonly [number, number][] = [
    [0x3c00, 1],
    [0xc000, -2],
    [0x3800, 0.5],
    [0x2e66, 0.0999755859375],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0xfbff, -65504],
    [0x0400, 2 ** -14],
    [0x03ff, 1023 * 2 ** -24],
    [0x0001, 2 ** -24],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  for (const [bits, value] of KNOWN) {
    test(`${hex(bits)} -> ${value}`, () => {
      assert.equal(float16ToNumber(bits), value);
    });
  }

  test('signed zeros and NaN', () => {
    assert.ok(Object.is(float16ToNumber(0x0000), 0));
    assert.ok(Object.is(float16ToNumber(0x8000), -0));
    assert.ok(Number.isNaN(float16ToNumber(0x7e00)));
    assert.ok(Number.isNaN(float16ToNumber(0xfc01)));
  });

  test('every one of the 65536 bit patterns round-trips (NaNs stay NaN)', () => {
    const wrong: string[] = [];
    for (let bits = 0; bits <= 0xffff; bits++) {
      const back = numberToFloat16(float16ToNumber(bits));
      const ok = isHalfNaN(bits) ? isHalfNaN(back) : back === bits;
      if (!ok) wrong.push(`${hex(bits)} -> ${hex(back)}`);
    }
    assert.deepEqual(wrong.slice(0, 10), []);
  });
});

describe('elementCount', () => {
  test('multiplies the dimensions; a scalar has one element', () => {
    assert.equal(elementCount([2, 3, 4]), 24);
    assert.equal(elementCount([1, 3, 224, 224]), 150528);
    assert.equal(elementCount([]), 1);
    assert.equal(elementCount([0, 3]), 0);
  });
});

describe('makeTensor', () => {
  test('keeps type and data and copies the shape', () => {
    const shape = [2, 3];
    const data = new Float32Array(6);
    const tensor = makeTensor('FP32', shape, data);
    shape[0] = 99;
    assert.deepEqual(tensor.shape, [2, 3]);
    assert.equal(tensor.type, 'FP32');
    assert.equal(tensor.data, data);
  });

  test('accepts a scalar, an empty batch and BYTES', () => {
    assert.deepEqual(makeTensor('INT64', [], new BigInt64Array(1)).shape, []);
    assert.deepEqual(makeTensor('UINT8', [0, 3], new Uint8Array(0)).shape, [0, 3]);
    assert.deepEqual(makeTensor('BYTES', [2], [new Uint8Array(1), new Uint8Array(0)]).shape, [2]);
  });

  test('refuses data whose length does not match the shape, with SKIFF_BAD_TENSOR', () => {
    assert.throws(() => makeTensor('FP32', [2, 3], new Float32Array(5)), {
      name: 'SkiffError',
      code: 'SKIFF_BAD_TENSOR',
      kind: 'invalid_argument',
      message: 'tensor of shape [2,3] needs 6 elements, got 5',
    });
    assert.throws(() => makeTensor('FP16', [1, 3, 2, 2], new Uint16Array(13)), {
      code: 'SKIFF_BAD_TENSOR',
      message: 'tensor of shape [1,3,2,2] needs 12 elements, got 13',
    });
    assert.throws(() => makeTensor('FP32', [], new Float32Array(0)), {
      code: 'SKIFF_BAD_TENSOR',
      message: 'tensor of shape [] needs 1 elements, got 0',
    });
  });
});

describe('numberAt', () => {
  test('decodes FP16, narrows 64-bit integers and reads other numbers as they are', () => {
    assert.equal(numberAt(makeTensor('FP16', [2], Uint16Array.of(0x3c00, 0xc000)), 1), -2);
    assert.equal(numberAt(makeTensor('INT64', [2], BigInt64Array.of(7n, -3n)), 1), -3);
    assert.equal(numberAt(makeTensor('UINT16', [1], Uint16Array.of(0x3c00)), 0), 0x3c00);
    assert.equal(numberAt(makeTensor('FP32', [1], Float32Array.of(0.5)), 0), 0.5);
  });

  test('an index out of range is a RangeError; BYTES has no numeric value', () => {
    assert.throws(() => numberAt(makeTensor('FP32', [2], new Float32Array(2)), 2), {
      name: 'RangeError',
      message: 'index 2 out of range',
    });
    assert.throws(() => numberAt(makeTensor('BYTES', [1], [new Uint8Array(1)]), 0), {
      code: 'SKIFF_BAD_TENSOR',
      message: 'BYTES tensors have no numeric value',
    });
  });
});

describe('checkElementCount', () => {
  test('a shape at the limit passes; one element more is SKIFF_TENSOR_TOO_LARGE, naming the input and the flag', () => {
    checkElementCount('x', [10, 10], 100);
    checkElementCount('x', [0, 1e15], 100);
    assert.throws(() => checkElementCount('x', [101], 100), {
      code: 'SKIFF_TENSOR_TOO_LARGE',
      message: 'input "x": shape [101] has 101 elements, more than the limit of 100 (--max-tensor-elements)',
    });
  });

  test('a product beyond 2^53 is refused too (no wrap-around)', () => {
    assert.throws(() => checkElementCount('x', [2 ** 40, 2 ** 40], 2 ** 31), {
      code: 'SKIFF_TENSOR_TOO_LARGE',
    });
  });
});
