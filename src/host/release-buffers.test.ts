import { test } from 'node:test';
import assert from 'node:assert/strict';
import { releaseBuffers } from './release-buffers.js';

const KIB = 1024;

test('a view that is the whole of its ArrayBuffer is detached at once, its memory freed within a turn', async () => {
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 200; i++) {
    // One body per turn of the event loop, as the server reads them: the dropped message goes between turns.
    await new Promise((resolve) => setImmediate(resolve));
    const chunks = [Buffer.allocUnsafeSlow(512 * KIB), Buffer.allocUnsafeSlow(512 * KIB).fill(1)];
    releaseBuffers(chunks);
    assert.equal(chunks[0]?.buffer.byteLength, 0);
    assert.equal(chunks[1]?.length, 0);
  }
  // 200 MB went through; without the release it would all still be counted until the next collection.
  const grownMiB = (process.memoryUsage().arrayBuffers - before) / 2 ** 20;
  assert.ok(grownMiB < 16, `ArrayBuffer memory grew ${grownMiB.toFixed(1)} MiB`);
});

test('views sharing a buffer, small buffers and shared memory are left as they are', () => {
  const big = Buffer.allocUnsafeSlow(256 * KIB).fill(7);
  const slice = big.subarray(1024, 2048);
  const offsetView = new Uint8Array(big.buffer, 4096);
  const small = Buffer.allocUnsafeSlow(4 * KIB).fill(3);
  const pooled = Buffer.from('a few bytes from the shared pool');
  const shared = new Uint8Array(new SharedArrayBuffer(64 * KIB)).fill(5);
  releaseBuffers([slice, offsetView, small, pooled, shared]);
  assert.equal(big.length, 256 * KIB);
  assert.equal(slice[0], 7);
  assert.equal(offsetView.length, 252 * KIB);
  assert.equal(small[0], 3);
  assert.equal(pooled.toString(), 'a few bytes from the shared pool');
  assert.equal(shared[0], 5);
});

test('a view listed twice, or already detached, does not make it throw', () => {
  const chunk = Buffer.allocUnsafeSlow(64 * KIB);
  releaseBuffers([chunk, chunk]);
  assert.equal(chunk.buffer.byteLength, 0);
  assert.doesNotThrow(() => releaseBuffers([chunk]));
  const other = Buffer.allocUnsafeSlow(64 * KIB);
  assert.doesNotThrow(() => releaseBuffers([other, chunk]));
});
