import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../tensor/tensor.js';
import type { InferenceReport } from '../inference-observer.js';
import type { FakeCall } from '../testing/fake-loaded-model.js';
import { FakeLoadedModel, Held } from '../testing/fake-loaded-model.js';
import { settle } from '../testing/deferred.js';
import { makeTensor } from '../tensor/tensor.js';
import { SkiffError } from '../errors.js';
import { Scheduler } from './scheduler.js';

/** Request n carries the number n in input "x"; its answer carries 100 + n in output "y". */
const request = (n: number): Record<string, Tensor> => ({ x: makeTensor('INT32', [1], Int32Array.of(n)) });
const answer = (n: number): Record<string, Tensor> => ({
  y: makeTensor('INT32', [1], Int32Array.of(100 + n)),
});
const numberOf = (call: FakeCall | undefined): number | undefined =>
  call?.inputs.x?.data[0] as number | undefined;
const answerOf = (outputs: Record<string, Tensor>): number | undefined =>
  outputs.y?.data[0] as number | undefined;

function setup(
  concurrency: number,
  maxQueueSize: number,
): { held: Held; model: FakeLoadedModel; scheduler: Scheduler } {
  const held = new Held();
  const model = new FakeLoadedModel([], [], held.respond);
  return { held, model, scheduler: new Scheduler(model, { concurrency, maxQueueSize }) };
}

describe('Scheduler', () => {
  test('hands at most `concurrency` requests to the model; the rest wait', async () => {
    const { held, model, scheduler } = setup(2, 10);
    const results = [1, 2, 3, 4, 5].map((n) => scheduler.submit(request(n)));
    await settle();
    assert.equal(model.calls.length, 2);
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [2, 3]);

    held.finish(0, answer(1));
    await settle();
    assert.equal(model.calls.length, 3);
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [2, 2]);

    held.finish(2, answer(3));
    held.finish(1, answer(2));
    await settle();
    assert.equal(model.calls.length, 5);
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [2, 0]);
    held.finish(3, answer(4));
    held.finish(4, answer(5));

    assert.deepEqual((await Promise.all(results)).map(answerOf), [101, 102, 103, 104, 105]);
    assert.equal(model.maxActive, 2);
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [0, 0]);
  });

  test('starts queued requests in the order they arrived (FIFO)', async () => {
    const { held, model, scheduler } = setup(1, 10);
    const results = [1, 2, 3, 4].map((n) => scheduler.submit(request(n)));
    for (let i = 0; i < 4; i++) {
      await settle();
      assert.equal(model.calls.length, i + 1);
      held.finish(i, answer(numberOf(model.calls[i]) ?? -1));
    }
    assert.deepEqual(model.calls.map(numberOf), [1, 2, 3, 4]);
    assert.deepEqual((await Promise.all(results)).map(answerOf), [101, 102, 103, 104]);
    assert.equal(model.maxActive, 1);
  });

  test('passes the inputs and the requested output names through unchanged', async () => {
    const { held, model, scheduler } = setup(1, 0);
    const inputs = request(7);
    const result = scheduler.submit(inputs, ['y']);
    await settle();
    assert.equal(model.calls[0]?.inputs, inputs);
    assert.deepEqual(model.calls[0].outputNames, ['y']);
    held.finish(0, answer(7));
    assert.equal(answerOf(await result), 107);
  });

  test('a full queue refuses the next request at once with SKIFF_QUEUE_FULL; the others still complete', async () => {
    const { held, model, scheduler } = setup(1, 2);
    const accepted = [1, 2, 3].map((n) => scheduler.submit(request(n)));
    await settle();
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [1, 2]);

    // Refused while request 1 is still running: nothing had to finish first.
    await assert.rejects(scheduler.submit(request(4)), {
      name: 'SkiffError',
      code: 'SKIFF_QUEUE_FULL',
      kind: 'resource_exhausted',
      message: "the model's queue is full (2 requests waiting); retry later",
    });
    assert.equal(model.calls.length, 1);

    for (let i = 0; i < 3; i++) {
      await settle();
      held.finish(i, answer(i + 1));
    }
    assert.deepEqual((await Promise.all(accepted)).map(answerOf), [101, 102, 103]);
    assert.deepEqual(model.calls.map(numberOf), [1, 2, 3]);

    // Room again once the queue drained.
    const again = scheduler.submit(request(5));
    await settle();
    held.finish(3, answer(5));
    assert.equal(answerOf(await again), 105);
  });

  test('maxQueueSize 0 refuses anything beyond the running requests', async () => {
    const { held, scheduler } = setup(1, 0);
    const first = scheduler.submit(request(1));
    await assert.rejects(scheduler.submit(request(2)), {
      code: 'SKIFF_QUEUE_FULL',
      message: /\(0 requests waiting\)/,
    });
    await settle();
    held.finish(0, answer(1));
    assert.equal(answerOf(await first), 101);
  });

  test('close() fails queued requests with SKIFF_SHUTTING_DOWN, refuses new ones, and lets running ones finish', async () => {
    const { held, model, scheduler } = setup(1, 10);
    const running = scheduler.submit(request(1));
    const queued = [scheduler.submit(request(2)), scheduler.submit(request(3))];
    await settle();

    scheduler.close();
    for (const result of queued) {
      await assert.rejects(result, {
        name: 'SkiffError',
        code: 'SKIFF_SHUTTING_DOWN',
        kind: 'unavailable',
        message: 'the model was unloaded before this request ran',
      });
    }
    assert.equal(scheduler.queued, 0);
    await assert.rejects(scheduler.submit(request(4)), {
      code: 'SKIFF_SHUTTING_DOWN',
      message: 'the model is unloading; retry on another replica',
    });

    assert.equal(scheduler.inFlight, 1);
    held.finish(0, answer(1));
    assert.equal(answerOf(await running), 101);
    assert.equal(model.calls.length, 1);
    assert.equal(scheduler.inFlight, 0);
  });

  test('a failing inference rejects its own request and releases its slot to the next', async () => {
    const { held, model, scheduler } = setup(1, 10);
    const failing = scheduler.submit(request(1));
    const next = scheduler.submit(request(2));
    await settle();
    const error = new SkiffError('SKIFF_INFERENCE_FAILED', 'the model failed');
    held.fail(0, error);
    await assert.rejects(failing, (thrown: unknown) => thrown === error);

    await settle();
    assert.equal(model.calls.length, 2);
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [1, 0]);
    held.finish(1, answer(2));
    assert.equal(answerOf(await next), 102);
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [0, 0]);
  });

  test('when every inference fails, every slot is still released', async () => {
    const model = new FakeLoadedModel([], [], () =>
      Promise.reject(new SkiffError('SKIFF_WORKER_CRASHED', 'worker died')),
    );
    const scheduler = new Scheduler(model, { concurrency: 2, maxQueueSize: 10 });
    const results = [1, 2, 3, 4, 5].map((n) => scheduler.submit(request(n)));
    for (const result of results) await assert.rejects(result, { code: 'SKIFF_WORKER_CRASHED' });
    assert.equal(model.calls.length, 5);
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [0, 0]);
  });

  test('a request arriving just as a slot is handed to a queued request waits its turn', async () => {
    const { held, model, scheduler } = setup(1, 10);
    const first = scheduler.submit(request(1));
    const second = scheduler.submit(request(2));
    await settle();
    held.finish(0, answer(1));
    // Step one microtask at a time until the second request has left the queue, then submit a third at once.
    let third: Promise<Record<string, Tensor>> | undefined;
    for (let step = 0; step < 50 && third === undefined; step++) {
      await Promise.resolve();
      if (scheduler.queued === 0) third = scheduler.submit(request(3));
    }
    assert.ok(third !== undefined, 'the second request never left the queue');
    await settle();
    try {
      assert.deepEqual(model.calls.map(numberOf), [1, 2]);
      assert.equal(model.maxActive, 1);
    } finally {
      // Let all three finish whichever order they ran in.
      for (let finished = 1, round = 0; finished < 3 && round < 10; round++) {
        for (; finished < model.calls.length; finished++)
          held.finish(finished, answer(numberOf(model.calls[finished]) ?? -1));
        await settle();
      }
      await Promise.all([first, second, third]);
    }
  });

  test('reports carry the context the observer gave when each request was submitted', async () => {
    const held = new Held();
    const model = new FakeLoadedModel([], [], held.respond);
    const reports: InferenceReport[] = [];
    let current = 'first';
    const scheduler = new Scheduler(model, {
      maxQueueSize: 4,
      concurrency: 1,
      observer: { requestContext: () => current, inferenceDone: (r) => reports.push(r) },
    });
    const first = scheduler.submit(request(1));
    current = 'second';
    const second = scheduler.submit(request(2));
    current = 'warm-up';
    held.finish(0, answer(1));
    await settle();
    held.finish(1, answer(2));
    await Promise.all([first, second]);
    assert.deepEqual(
      reports.map((r) => [r.context, r.executionBatchSize]),
      [
        ['first', 1],
        ['second', 1],
      ],
    );
  });

  test('queueTimeoutMs: a request still queued after it is refused with SKIFF_TIMEOUT; a started one is not', async () => {
    const held = new Held();
    const model = new FakeLoadedModel([], [], held.respond);
    const scheduler = new Scheduler(model, { concurrency: 1, maxQueueSize: 10, queueTimeoutMs: 30 });
    const running = scheduler.submit(request(1));
    const waiting = scheduler.submit(request(2));
    await assert.rejects(waiting, {
      code: 'SKIFF_TIMEOUT',
      kind: 'deadline_exceeded',
      message: /waited 30 ms for the model without starting/,
    });
    assert.equal(scheduler.queued, 0);
    // The running request outlives the queue limit: it only bounds the wait.
    await new Promise((resolve) => setTimeout(resolve, 40));
    held.finish(0, answer(1));
    assert.equal(answerOf(await running), 101);
    assert.equal(model.calls.length, 1);
  });
});
