// model.json's queue keys through the real server and the real runtime: a model's own maxQueueSize refuses
// the excess at once with 503 + Retry-After, and its queueTimeoutMs answers a request that waited too long
// with 504, while the request that was running finishes normally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { fixtureModel } from '../helpers/paths.js';
import { postImage, startTestServer } from '../helpers/test-server.js';

function modelDir(config: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-queue-'));
  // slow-color takes roughly 250 ms per inference on one thread (see make-fixtures.ts).
  copyFileSync(fixtureModel('slow-color/model.onnx'), path.join(dir, 'model.onnx'));
  copyFileSync(fixtureModel('slow-color/labels.txt'), path.join(dir, 'labels.txt'));
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(config));
  return dir;
}

const red = (): Promise<Buffer> =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 255, g: 0, b: 0 } } })
    .png()
    .toBuffer();

test('batching.maxQueueSize 0 overrides --max-queue-size 64: beyond the running request, 503 + Retry-After', async () => {
  const server = await startTestServer({
    model: modelDir({ batching: { maxQueueSize: 0 } }),
    maxQueueSize: 64,
  });
  try {
    const image = await red();
    const answers = await Promise.all(
      [0, 1, 2, 3].map(() => postImage(`${server.url}/predict`, image, 'r.png', 'image/png')),
    );
    const statuses = answers.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 200).length >= 1, true, statuses.join(','));
    assert.ok(statuses.includes(503), statuses.join(','));
    for (const response of answers.filter((r) => r.status === 503)) {
      assert.ok(response.headers.get('retry-after') !== null);
      assert.match(
        ((await response.json()) as { error: string }).error,
        /queue is full \(0 requests waiting\)/,
      );
    }
  } finally {
    await server.close();
  }
});

test('batching.queueTimeoutMs: queued requests that do not start in time get 504; the running one is served', async () => {
  const server = await startTestServer({
    model: modelDir({ batching: { queueTimeoutMs: 50 } }),
    requestTimeoutMs: 0,
  });
  try {
    const image = await red();
    const answers = await Promise.all(
      [0, 1, 2].map(() => postImage(`${server.url}/predict`, image, 'r.png', 'image/png')),
    );
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 504, 504]);
    for (const response of answers.filter((r) => r.status === 504))
      assert.match(
        ((await response.json()) as { error: string }).error,
        /waited 50 ms for the model without starting/,
      );
  } finally {
    await server.close();
  }
});
