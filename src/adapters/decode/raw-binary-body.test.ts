import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TensorInfo } from '../../core/tensor/tensor.js';
import { testLimits } from '../../core/testing/test-limits.js';
import { decodeInferBody } from './oip-codec.js';

const limits = testLimits({});
const decode = (declared: TensorInfo[], body: Uint8Array) =>
  decodeInferBody('m', undefined, Buffer.from(body), 0, limits, declared);
const refusal = (fragment: string) => (error: Error & { code?: string }) => error.message.includes(fragment);

test('the whole body is the only input; the batch is 1 and the one dynamic dimension comes from the bytes', () => {
  const bytes = new Uint8Array(Float32Array.from([1, 2, 3, 4, 5, 6]).buffer);
  const decoded = decode([{ name: 'x', type: 'FP32', shape: [-1, -1, 2] }], bytes);
  const input = decoded.request.inputs.x;
  assert.deepEqual(input?.shape, [1, 3, 2]);
  assert.deepEqual(Array.from(input.data as Float32Array), [1, 2, 3, 4, 5, 6]);
  assert.ok(decoded.binaryOutputs.has('*'), 'every output comes back binary');
  // A 1-D dynamic input is filled by the bytes; a fixed one must match exactly.
  assert.deepEqual(
    decode([{ name: 'x', type: 'INT16', shape: [-1] }], new Uint8Array(8)).request.inputs.x?.shape,
    [4],
  );
  assert.deepEqual(
    decode([{ name: 'x', type: 'UINT8', shape: [2, 2] }], new Uint8Array(4)).request.inputs.x?.shape,
    [2, 2],
  );
});

test('BYTES: one element holding the body as it is', () => {
  const decoded = decode([{ name: 's', type: 'BYTES', shape: [-1, 1] }], Buffer.from('héllo'));
  const input = decoded.request.inputs.s;
  assert.deepEqual(input?.shape, [1, 1]);
  assert.equal(Buffer.from((input.data as Uint8Array[])[0] ?? []).toString(), 'héllo');
});

test('refused: several inputs, two dynamic dimensions, bytes that do not fit, BYTES of several elements', () => {
  const two: TensorInfo[] = [
    { name: 'a', type: 'FP32', shape: [1] },
    { name: 'b', type: 'FP32', shape: [1] },
  ];
  assert.throws(
    () => decode(two, new Uint8Array(4)),
    refusal('needs a model with one input; model "m" has 2'),
  );
  assert.throws(
    () => decode([{ name: 'x', type: 'FP32', shape: [-1, -1, -1] }], new Uint8Array(4)),
    refusal('more than one dynamic dimension'),
  );
  assert.throws(
    () => decode([{ name: 'x', type: 'FP32', shape: [-1, 3] }], new Uint8Array(8)),
    refusal('needs 12 bytes, not 8'),
  );
  assert.throws(
    () => decode([{ name: 'x', type: 'FP32', shape: [-1] }], new Uint8Array(6)),
    refusal('of 6 bytes does not fill whole elements of 4 bytes'),
  );
  assert.throws(
    () => decode([{ name: 's', type: 'BYTES', shape: [2] }], new Uint8Array(3)),
    refusal('of BYTES needs an input of one element'),
  );
});
