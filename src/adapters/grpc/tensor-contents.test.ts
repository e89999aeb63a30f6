import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SkiffError } from '../../core/errors.js';
import type { DataType, TensorData } from '../../core/tensor/data-type.js';
import type { TensorContentsMessage } from './tensor-contents.js';
import { tensorFromContents, tensorToContents } from './tensor-contents.js';

const badTensor = (message: string | RegExp) => (error: SkiffError) => {
  assert.equal(error.code, 'SKIFF_BAD_TENSOR');
  if (typeof message === 'string') assert.equal(error.message, message);
  else assert.match(error.message, message);
  return true;
};

test('each datatype reads its own field into its own typed array', () => {
  const cases: [DataType, TensorContentsMessage, TensorData][] = [
    ['BOOL', { bool_contents: [true, false] }, Uint8Array.from([1, 0])],
    ['UINT8', { uint_contents: [0, 255] }, Uint8Array.from([0, 255])],
    ['UINT16', { uint_contents: [0, 65535] }, Uint16Array.from([0, 65535])],
    ['UINT32', { uint_contents: [0, 4294967295] }, Uint32Array.from([0, 4294967295])],
    ['UINT64', { uint64_contents: ['0', '18446744073709551615'] }, BigUint64Array.from([0n, 2n ** 64n - 1n])],
    ['INT8', { int_contents: [-128, 127] }, Int8Array.from([-128, 127])],
    ['INT16', { int_contents: [-32768, 32767] }, Int16Array.from([-32768, 32767])],
    ['INT32', { int_contents: [-2147483648, 2147483647] }, Int32Array.from([-2147483648, 2147483647])],
    ['INT64', { int64_contents: ['-9223372036854775808', 9] }, BigInt64Array.from([-(2n ** 63n), 9n])],
    ['FP32', { fp32_contents: [1.5, -2] }, Float32Array.from([1.5, -2])],
    ['FP64', { fp64_contents: [Math.PI, -1e300] }, Float64Array.from([Math.PI, -1e300])],
  ];
  for (const [type, contents, data] of cases) {
    assert.deepEqual(tensorFromContents('t', type, [2], contents), { type, shape: [2], data }, type);
  }
});

test('BYTES elements are copied out of the message buffers', () => {
  const message = Buffer.from('abcdef');
  const tensor = tensorFromContents('s', 'BYTES', [2], {
    bytes_contents: [message.subarray(0, 2), message.subarray(2)],
  });
  message.fill(0);
  assert.deepEqual(tensor.data, [Uint8Array.from(Buffer.from('ab')), Uint8Array.from(Buffer.from('cdef'))]);
});

test('64-bit integers beyond 2^53 survive both ways as decimal strings', () => {
  const big = '9007199254740993';
  const tensor = tensorFromContents('i', 'INT64', [1], { int64_contents: [big] });
  assert.deepEqual(tensor.data, BigInt64Array.from([9007199254740993n]));
  assert.deepEqual(tensorToContents('i', tensor), { int64_contents: [big] });
  const unsigned = tensorFromContents('u', 'UINT64', [1], { uint64_contents: ['18446744073709551615'] });
  assert.deepEqual(tensorToContents('u', unsigned), { uint64_contents: ['18446744073709551615'] });
});

test('values outside the type are refused, naming input and element', () => {
  assert.throws(
    () => tensorFromContents('x', 'INT8', [2], { int_contents: [1, 128] }),
    badTensor('input "x": element 1 is 128, expected an integer from -128 to 127 for INT8'),
  );
  assert.throws(
    () => tensorFromContents('x', 'UINT16', [1], { uint_contents: [65536] }),
    badTensor('input "x": element 0 is 65536, expected an integer from 0 to 65535 for UINT16'),
  );
  assert.throws(
    () => tensorFromContents('x', 'UINT64', [1], { uint64_contents: ['-1'] }),
    badTensor(/element 0 is -1, expected an integer from 0 to 18446744073709551615 for UINT64/),
  );
  assert.throws(
    () => tensorFromContents('x', 'INT64', [1], { int64_contents: ['1.5'] }),
    badTensor('input "x": element 0 is 1.5, expected an integer for INT64'),
  );
});

test('the wrong field, a wrong count and typed FP16 are refused', () => {
  assert.throws(
    () => tensorFromContents('x', 'FP64', [1], { fp32_contents: [1] }),
    badTensor('input "x": FP64 data goes in contents.fp64_contents, got contents.fp32_contents'),
  );
  assert.throws(
    () => tensorFromContents('x', 'FP32', [2, 2], { fp32_contents: [1, 2, 3] }),
    badTensor('input "x": 3 values in contents.fp32_contents do not fit shape [2,2] (4 expected)'),
  );
  assert.throws(
    () => tensorFromContents('x', 'FP16', [1], { fp32_contents: [1] }),
    badTensor('input "x": FP16 has no typed contents field; send it in raw_input_contents'),
  );
  assert.throws(() => tensorToContents('y', { type: 'FP16', shape: [1], data: Uint16Array.from([0x3c00]) }), {
    code: 'SKIFF_BAD_PARAMETER',
  });
});

test('an empty tensor needs no contents', () => {
  assert.deepEqual(tensorFromContents('x', 'FP32', [0, 4], {}), {
    type: 'FP32',
    shape: [0, 4],
    data: new Float32Array(0),
  });
});

test('outputs: each datatype goes to its field, BOOL as booleans, BYTES as buffers', () => {
  assert.deepEqual(tensorToContents('b', { type: 'BOOL', shape: [2], data: Uint8Array.from([0, 1]) }), {
    bool_contents: [false, true],
  });
  assert.deepEqual(tensorToContents('u', { type: 'UINT8', shape: [2], data: Uint8Array.from([7, 255]) }), {
    uint_contents: [7, 255],
  });
  assert.deepEqual(tensorToContents('i', { type: 'INT16', shape: [1], data: Int16Array.from([-3]) }), {
    int_contents: [-3],
  });
  assert.deepEqual(tensorToContents('f', { type: 'FP64', shape: [1], data: Float64Array.from([0.1]) }), {
    fp64_contents: [0.1],
  });
  assert.deepEqual(
    tensorToContents('s', {
      type: 'BYTES',
      shape: [2],
      data: [Uint8Array.from([104, 105]), new Uint8Array(0)],
    }),
    { bytes_contents: [Buffer.from('hi'), Buffer.alloc(0)] },
  );
});
