// Inference must never run on the main thread: while a slow model works, the event loop stays responsive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { fixtureModel } from '../helpers/paths.js';
import { postImage, startTestServer } from '../helpers/test-server.js';

test('a timer on the main thread keeps firing while inferences run', async (t) => {
  // slow-color takes roughly 250 ms per inference with one thread (see make-fixtures.ts).
  const server = await startTestServer({
    model: fixtureModel('slow-color/model.onnx'),
    workers: 1,
    threadsPerWorker: 1,
  });
  try {
    const image = await sharp({ create: { width: 300, height: 240, channels: 3, background: '#c02020' } })
      .png()
      .toBuffer();

    // First calls compile code paths (multipart, fetch, sharp bindings) that stall the loop once; warm them.
    await Promise.all(
      Array.from({ length: 4 }, () => postImage(`${server.url}/predict`, image, 'red.png', 'image/png')),
    );
    // One request's time, the fastest of three: other test files may be loading the machine.
    const singles: number[] = [];
    for (let i = 0; i < 3; i++) {
      const single = performance.now();
      assert.equal((await postImage(`${server.url}/predict`, image, 'red.png', 'image/png')).status, 200);
      singles.push(performance.now() - single);
    }
    const inferenceMs = Math.min(...singles);

    let worstGapMs = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      worstGapMs = Math.max(worstGapMs, now - last);
      last = now;
    }, 5);
    const started = performance.now();
    const responses = await Promise.all(
      Array.from({ length: 4 }, () => postImage(`${server.url}/predict`, image, 'red.png', 'image/png')),
    );
    const totalMs = performance.now() - started;
    clearInterval(timer);

    for (const response of responses) assert.equal(response.status, 200);
    // Four requests through one worker cannot overlap: at least twice one request's time, whatever the load.
    assert.ok(
      totalMs > 2 * inferenceMs,
      `4 requests took ${totalMs.toFixed(0)} ms, one took ${inferenceMs.toFixed(0)} ms`,
    );
    assert.ok(
      worstGapMs < inferenceMs / 4,
      `the event loop stalled for ${worstGapMs.toFixed(1)} ms while one inference takes ${inferenceMs.toFixed(0)} ms`,
    );
    t.diagnostic(`one inference ${inferenceMs.toFixed(0)} ms; worst timer gap ${worstGapMs.toFixed(1)} ms`);
  } finally {
    await server.close();
  }
});
