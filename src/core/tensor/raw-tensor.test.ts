import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensorFromRaw } from './raw-tensor.js';

const floats = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);

test('tensorFromRaw with owned bytes that are a whole buffer uses them as they are', () => {
  const bytes = floats([1, 2, 3, 4]);
  const tensor = tensorFromRaw('x', 'FP32', [1, 4], bytes, { owned: true });
  assert.equal((tensor.data as Float32Array).buffer, bytes.buffer);
  assert.deepEqual([...(tensor.data as Float32Array)], [1, 2, 3, 4]);
});

test('tensorFromRaw copies bytes that are not owned, or only part of their buffer', () => {
  const bytes = floats([1, 2, 3, 4]);
  const notOwned = tensorFromRaw('x', 'FP32', [4], bytes);
  assert.notEqual((notOwned.data as Float32Array).buffer, bytes.buffer);
  // Owned but at an odd offset of a larger buffer: copied into an aligned one.
  const body = new Uint8Array(1 + 16);
  body.set(bytes, 1);
  const part = tensorFromRaw('x', 'FP32', [4], body.subarray(1), { owned: true });
  assert.notEqual((part.data as Float32Array).buffer, body.buffer);
  assert.deepEqual([...(part.data as Float32Array)], [1, 2, 3, 4]);
  bytes.fill(0);
  assert.deepEqual([...(notOwned.data as Float32Array)], [1, 2, 3, 4]);
});
