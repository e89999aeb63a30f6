// The scheduler is the one queue: a model that says how many requests it takes right now
// (LoadedModel.available, as the ONNX worker pool does) is never handed more, and whatever it cannot take
// waits in the scheduler's queue, where cancellation and queue timeouts apply.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../tensor/tensor.js';
import { FakeLoadedModel, Held } from '../testing/fake-loaded-model.js';
import { settle } from '../testing/deferred.js';
import { makeTensor } from '../tensor/tensor.js';
import { Scheduler } from './scheduler.js';

const request = (n: number): Record<string, Tensor> => ({ x: makeTensor('INT32', [1], Int32Array.of(n)) });
const answer = (n: number): Record<string, Tensor> => ({
  y: makeTensor('INT32', [1], Int32Array.of(100 + n)),
});
const answerOf = (outputs: Record<string, Tensor>): number | undefined =>
  outputs.y?.data[0] as number | undefined;

/** A model with places in service (a pool whose workers are up): it takes one request per free place. */
class PlacesModel extends FakeLoadedModel {
  inService = 0;
  private listener: (() => void) | undefined;

  get available(): number {
    return this.inService - this.active;
  }

  onAvailable(listener: () => void): void {
    this.listener = listener;
  }

  /** More places come into service (a replaced worker is ready), and the model says so. */
  bringUp(places: number): void {
    this.inService += places;
    this.listener?.();
  }
}

function setup(
  inService: number,
  queueTimeoutMs = 0,
): { held: Held; model: PlacesModel; scheduler: Scheduler } {
  const held = new Held();
  const model = new PlacesModel([], [], held.respond);
  model.inService = inService;
  const scheduler = new Scheduler(model, { concurrency: 4, maxQueueSize: 10, queueTimeoutMs });
  return { held, model, scheduler };
}

describe('Scheduler in front of a model that says what it takes now', () => {
  test('hands over no more than the model takes; the rest wait in the queue until places free', async () => {
    const { held, model, scheduler } = setup(1);
    const results = [1, 2, 3, 4].map((n) => scheduler.submit(request(n)));
    await settle();
    assert.equal(model.calls.length, 1);
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [1, 3]);

    model.bringUp(1);
    await settle();
    assert.equal(model.calls.length, 2, 'a place the model frees by itself is used at once');
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [2, 2]);

    held.finish(0, answer(1));
    await settle();
    assert.equal(model.calls.length, 3, 'a place freed by an answer goes to the next in the queue');
    held.finish(1, answer(2));
    await settle();
    held.finishOpen(answer(0));
    assert.deepEqual((await Promise.all(results)).map(answerOf), [101, 102, 100, 100]);
    assert.equal(model.maxActive, 2);
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [0, 0]);
  });

  test('a request waiting for a place is cancelled and timed out by the queue, never handed over', async () => {
    const { held, model, scheduler } = setup(0, 30);
    const abort = new AbortController();
    const cancelled = scheduler.submit(request(1), undefined, {
      context: { id: 'a', deadline: Infinity, signal: abort.signal },
    });
    const timedOut = scheduler.submit(request(2));
    abort.abort();
    await assert.rejects(cancelled, { code: 'SKIFF_CANCELLED' });
    await assert.rejects(timedOut, { code: 'SKIFF_TIMEOUT' });
    model.bringUp(2);
    await settle();
    assert.equal(model.calls.length, 0);
    assert.equal(held.open, 0);
  });

  test('a model that can serve nothing any more (Infinity) is handed what waited, to fail it at once', async () => {
    const { model, scheduler } = setup(0);
    model.respond = () => Promise.reject(new Error('gone'));
    const waiting = [1, 2].map((n) => scheduler.submit(request(n)));
    await settle();
    assert.equal(model.calls.length, 0);
    model.bringUp(Infinity);
    for (const result of waiting) await assert.rejects(result, { message: 'gone' });
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [0, 0]);
  });
});
