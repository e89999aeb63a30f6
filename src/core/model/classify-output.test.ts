import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyOutput } from './classify-output.js';

const strings = (tensor: { data: unknown }): string[] =>
  (tensor.data as Uint8Array[]).map((b) => new TextDecoder().decode(b));

test('indices are the output tensor indices, every element competing, as Triton answers', () => {
  // Index 0 is a background class (no label of Skiff's); labels name indices 1..3.
  const labels = ['cat', 'dog', 'fox'];
  const labelAt = (index: number): string | undefined => labels[index - 1];
  const logits = { type: 'FP32' as const, shape: [2, 4], data: Float32Array.from([9, 1, 3, 2, 0, 5, 1, 7]) };
  const classified = classifyOutput(logits, 2, labelAt);
  assert.deepEqual(classified.shape, [2, 2]);
  assert.deepEqual(strings(classified), ['9:0', '3:2:dog', '7:3:fox', '5:1:cat']);
});

test('a 1-D output is one row; N beyond the row is the row; ties keep the lower index first', () => {
  const tensor = { type: 'INT32' as const, shape: [3], data: Int32Array.from([4, 4, 1]) };
  const classified = classifyOutput(tensor, 10, () => undefined);
  assert.deepEqual(classified.shape, [3]);
  assert.deepEqual(strings(classified), ['4:0', '4:1', '1:2']);
});
