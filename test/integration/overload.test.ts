// 4x overload against a bounded queue: the excess is refused fast with 503 + Retry-After, the accepted
// requests' latency stays bounded by the queue, and memory does not grow with the offered load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { fixtureModel } from '../helpers/paths.js';
import { postImage, startTestServer } from '../helpers/test-server.js';

test('under 4x overload the excess gets fast 503s and the accepted requests stay bounded', async (t) => {
  // slow-color takes roughly 250 ms per inference: one worker serves ~4/s. A queue of 2 admits 3 at a time.
  const server = await startTestServer({
    model: fixtureModel('slow-color/model.onnx'),
    maxQueueSize: 2,
    requestTimeoutMs: 0,
  });
  try {
    const image = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#2020d0' } })
      .png()
      .toBuffer();
    const single = performance.now();
    await postImage(`${server.url}/predict`, image, 'b.png', 'image/png');
    const inferenceMs = performance.now() - single;

    const accepted: number[] = [];
    const refused: number[] = [];
    const retryAfter = new Set<string | null>();
    const rssBefore = process.memoryUsage().rss;
    // At least 3 s, and on a slow or shared machine until 8 requests were served (at most 20 s), so the
    // figures below rest on enough samples.
    const started = performance.now();
    const enough = (): boolean =>
      performance.now() - started > 20_000 || (performance.now() - started > 3000 && accepted.length >= 8);
    // 12 clients in a closed loop: 4x the 3 requests the server admits at once.
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (!enough()) {
          const started = performance.now();
          const response = await postImage(`${server.url}/predict`, image, 'b.png', 'image/png');
          const ms = performance.now() - started;
          if (response.status === 200) accepted.push(ms);
          else {
            assert.equal(response.status, 503);
            retryAfter.add(response.headers.get('retry-after'));
            refused.push(ms);
            // A polite client backs off a little before retrying.
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          await response.arrayBuffer();
        }
      }),
    );
    const quantile = (values: number[], q: number): number =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length * q)] ?? NaN;
    const p99 = (values: number[]): number => quantile(values, 0.99);
    const grownMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    const acceptedMedian = quantile(accepted, 0.5);
    t.diagnostic(
      `one inference ${inferenceMs.toFixed(0)} ms; accepted ${accepted.length} (p50 ${acceptedMedian.toFixed(0)} ms, p99 ${p99(accepted).toFixed(0)} ms), ` +
        `refused ${refused.length} (p99 ${p99(refused).toFixed(1)} ms); RSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
    );
    assert.ok(accepted.length >= 4, `only ${accepted.length} requests were served`);
    assert.ok(refused.length > accepted.length, 'the excess was refused');
    assert.deepEqual([...retryAfter], ['1']);
    // Refusals do not wait for the model; accepted requests wait at least for their own inference. Compared
    // under the same load (and not only with the idle single inference above), so that a machine busy
    // with other work slows both alike.
    assert.ok(
      p99(refused) < Math.max(inferenceMs, acceptedMedian),
      `refusals took up to ${p99(refused).toFixed(0)} ms; accepted requests' median ${acceptedMedian.toFixed(0)} ms`,
    );
    // An accepted request waits for at most the two queued ahead of it plus its own: about three inference
    // times, with 2x headroom. Under 4x overload the queue is always full, so the accepted median is about
    // three inferences too: a second estimate of the inference time under the run's own load.
    const inferenceUnderLoadMs = Math.max(inferenceMs, acceptedMedian / 3);
    assert.ok(
      p99(accepted) < 6 * inferenceUnderLoadMs,
      `accepted p99 ${p99(accepted).toFixed(0)} ms vs ${inferenceUnderLoadMs.toFixed(0)} ms per inference`,
    );
    assert.ok(grownMiB < 100, `RSS grew ${grownMiB.toFixed(0)} MiB`);
  } finally {
    await server.close();
  }
});
