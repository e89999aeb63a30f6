import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../tensor/tensor.js';
import type { InferenceReport } from '../inference-observer.js';
import { Scheduler } from './scheduler.js';
import { FakeLoadedModel, Held, echo } from '../testing/fake-loaded-model.js';

const info = [{ name: 'x', type: 'FP32' as const, shape: [-1, 2] }];
const rows = (...values: number[][]): Record<string, Tensor> => ({
  x: { type: 'FP32', shape: [values.length, 2], data: Float32Array.from(values.flat()) },
});
const data = (outputs: Record<string, Tensor>): number[] => Array.from(outputs.x?.data as Float32Array);
const shapes = (model: FakeLoadedModel): number[] => model.calls.map((c) => c.inputs.x?.shape[0] ?? -1);
const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Scheduler with dynamic batching', () => {
  test('requests that queue behind a busy model are merged into one execution, and each gets its own rows', async () => {
    const held = new Held();
    const model = new FakeLoadedModel(info, info, held.respond);
    const batcher = new Scheduler(
      model,
      { maxQueueSize: 10, concurrency: 1 },
      { maxBatchSize: 8, maxQueueDelayMs: 0, preferredBatchSizes: [] },
    );
    const a = batcher.submit(rows([1, 1]));
    await tick();
    const b = batcher.submit(rows([2, 2], [3, 3]));
    const c = batcher.submit(rows([4, 4]));
    const other = batcher.submit({ x: { type: 'FP32', shape: [1, 3], data: Float32Array.from([9, 9, 9]) } });
    held.finish(0, rows([1, 1]));
    await tick();
    assert.deepEqual(shapes(model), [1, 3]);
    const merged = model.calls[1]?.inputs.x;
    assert.deepEqual(Array.from(merged?.data as Float32Array), [2, 2, 3, 3, 4, 4]);
    held.finish(1, { x: merged as Tensor });
    assert.deepEqual(data(await a), [1, 1]);
    assert.deepEqual(data(await b), [2, 2, 3, 3]);
    assert.deepEqual(data(await c), [4, 4]);
    await tick();
    assert.deepEqual(shapes(model), [1, 3, 1], 'a request with other dimensions is never merged');
    held.finish(2, { x: model.calls[2]?.inputs.x as Tensor });
    assert.deepEqual((await other).x?.shape, [1, 3]);
  });

  test('maxQueueDelayMs: requests arriving within the delay share a batch', async () => {
    const model = new FakeLoadedModel(info, info, echo);
    const batcher = new Scheduler(
      model,
      { maxQueueSize: 10, concurrency: 1 },
      { maxBatchSize: 8, maxQueueDelayMs: 40, preferredBatchSizes: [] },
    );
    const results = await Promise.all([
      batcher.submit(rows([1, 1])),
      (async () => {
        await tick(5);
        return batcher.submit(rows([2, 2]));
      })(),
    ]);
    assert.deepEqual(shapes(model), [2]);
    assert.deepEqual(results.map(data), [
      [1, 1],
      [2, 2],
    ]);
  });

  test('a preferred batch size runs at once, without waiting out the delay', async () => {
    const model = new FakeLoadedModel(info, info, echo);
    const batcher = new Scheduler(
      model,
      { maxQueueSize: 10, concurrency: 1 },
      { maxBatchSize: 8, maxQueueDelayMs: 10_000, preferredBatchSizes: [2] },
    );
    const started = performance.now();
    await Promise.all([batcher.submit(rows([1, 1])), batcher.submit(rows([2, 2]))]);
    assert.ok(performance.now() - started < 1000);
    assert.deepEqual(shapes(model), [2]);
  });

  test('maxBatchSize caps each execution; larger requests are refused', async () => {
    const held = new Held();
    const model = new FakeLoadedModel(info, info, held.respond);
    const batcher = new Scheduler(
      model,
      { maxQueueSize: 10, concurrency: 1 },
      { maxBatchSize: 2, maxQueueDelayMs: 0, preferredBatchSizes: [] },
    );
    const first = batcher.submit(rows([0, 0]));
    await tick();
    const rest = [1, 2, 3, 4].map((v) => batcher.submit(rows([v, v])));
    for (let i = 0; i < 3; i++) {
      held.finish(i, { x: model.calls[i]?.inputs.x as Tensor });
      await tick();
    }
    await Promise.all([first, ...rest]);
    assert.deepEqual(shapes(model), [1, 2, 2]);
    await assert.rejects(batcher.submit(rows([1, 1], [2, 2], [3, 3])), { code: 'SKIFF_BAD_TENSOR' });
  });

  test('a failed execution fails every request in it and no other; a full queue is refused at once', async () => {
    const held = new Held();
    const model = new FakeLoadedModel(info, info, held.respond);
    const batcher = new Scheduler(
      model,
      { maxQueueSize: 2, concurrency: 1 },
      { maxBatchSize: 8, maxQueueDelayMs: 0, preferredBatchSizes: [] },
    );
    const a = batcher.submit(rows([1, 1]));
    await tick();
    const b = batcher.submit(rows([2, 2]));
    const c = batcher.submit(rows([3, 3]));
    await assert.rejects(batcher.submit(rows([4, 4])), { code: 'SKIFF_QUEUE_FULL' });
    held.finish(0, rows([1, 1]));
    await tick();
    held.fail(1, new Error('boom'));
    await assert.rejects(b, { code: 'SKIFF_INFERENCE_FAILED' });
    await assert.rejects(c, { code: 'SKIFF_INFERENCE_FAILED' });
    assert.deepEqual(data(await a), [1, 1]);
  });

  test('each report carries the context its own request was submitted with, and the execution batch size', async () => {
    const held = new Held();
    const model = new FakeLoadedModel(info, info, held.respond);
    const reports: InferenceReport[] = [];
    let current = 'a';
    const batcher = new Scheduler(
      model,
      {
        maxQueueSize: 10,
        concurrency: 1,
        observer: { requestContext: () => current, inferenceDone: (r) => reports.push(r) },
      },
      { maxBatchSize: 8, maxQueueDelayMs: 0, preferredBatchSizes: [] },
    );
    const a = batcher.submit(rows([1, 1]));
    await tick();
    current = 'b';
    const b = batcher.submit(rows([2, 2], [3, 3]));
    current = 'c';
    const c = batcher.submit(rows([4, 4]));
    held.finish(0, rows([1, 1]));
    await tick();
    held.finish(1, { x: model.calls[1]?.inputs.x as Tensor });
    await Promise.all([a, b, c]);
    assert.deepEqual(
      reports.map((r) => [r.context, r.batchSize, r.executionBatchSize]),
      [
        ['a', 1, 1],
        ['b', 2, 3],
        ['c', 1, 3],
      ],
    );
  });

  test('queueTimeoutMs: a request left in the queue is refused with SKIFF_TIMEOUT; batched ones are not', async () => {
    const held = new Held();
    const model = new FakeLoadedModel(info, info, held.respond);
    const batcher = new Scheduler(
      model,
      { maxQueueSize: 10, concurrency: 1, queueTimeoutMs: 30 },
      { maxBatchSize: 2, maxQueueDelayMs: 0, preferredBatchSizes: [] },
    );
    const first = batcher.submit(rows([1, 1]));
    await tick();
    const late = batcher.submit(rows([2, 2], [3, 3]));
    await assert.rejects(late, {
      code: 'SKIFF_TIMEOUT',
      message: /waited 30 ms for the model without starting/,
    });
    assert.equal(batcher.queued, 0);
    await tick(40);
    held.finish(0, rows([1, 1]));
    assert.deepEqual(data(await first), [1, 1]);
    assert.deepEqual(shapes(model), [1]);
  });
});
