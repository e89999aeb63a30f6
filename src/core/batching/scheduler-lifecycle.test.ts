import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../tensor/tensor.js';
import { FakeLoadedModel, Held } from '../testing/fake-loaded-model.js';
import { settle } from '../testing/deferred.js';
import { makeTensor } from '../tensor/tensor.js';
import { RequestLifetime } from '../request/request-context.js';
import { Scheduler } from './scheduler.js';

const request = (n: number): Record<string, Tensor> => ({ x: makeTensor('INT32', [1], Int32Array.of(n)) });
const answer = (n: number): Record<string, Tensor> => ({ y: makeTensor('INT32', [1], Int32Array.of(n)) });

function setup(
  concurrency: number,
  maxQueueSize: number,
): { held: Held; model: FakeLoadedModel; scheduler: Scheduler } {
  const held = new Held();
  const model = new FakeLoadedModel([], [], held.respond);
  return { held, model, scheduler: new Scheduler(model, { concurrency, maxQueueSize }) };
}

describe('Scheduler: a request whose client left or whose deadline passed', () => {
  test('cancelled while queued: leaves the queue at once with its reason and never runs', async () => {
    const { held, model, scheduler } = setup(1, 10);
    const running = scheduler.submit(request(1));
    const lifetime = new RequestLifetime('r2', { serverMs: 0 });
    const queued = scheduler.submit(request(2), undefined, { context: lifetime });
    const behind = scheduler.submit(request(3));
    await settle();
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [1, 2]);

    lifetime.cancel('test');
    await assert.rejects(queued, { code: 'SKIFF_CANCELLED', kind: 'cancelled' });
    assert.equal(scheduler.queued, 1, 'the cancelled request left the queue before anything finished');

    held.finish(0, answer(1));
    await running;
    await settle();
    held.finish(1, answer(3));
    await behind;
    assert.deepEqual(
      model.calls.map((c) => c.inputs.x?.data[0]),
      [1, 3],
      'only the requests someone waits for ran',
    );
  });

  test('deadline while queued: SKIFF_TIMEOUT, and the next request takes its place', async () => {
    const { held, model, scheduler } = setup(1, 10);
    const running = scheduler.submit(request(1));
    const lifetime = new RequestLifetime('r2', { serverMs: 20 });
    const queued = scheduler.submit(request(2), undefined, { context: lifetime });
    await assert.rejects(queued, {
      code: 'SKIFF_TIMEOUT',
      message: /did not finish within 20 ms \(--request-timeout-ms\)/,
    });
    assert.equal(scheduler.queued, 0);
    held.finish(0, answer(1));
    await running;
    assert.equal(model.calls.length, 1);
    lifetime.dispose();
  });

  test('cancelled while running: its caller is answered at once; the late result is dropped, the slot freed when the run ends', async () => {
    const { held, scheduler } = setup(1, 10);
    const lifetime = new RequestLifetime('r1', { serverMs: 0 });
    const running = scheduler.submit(request(1), undefined, { context: lifetime });
    await settle();
    assert.equal(scheduler.inFlight, 1);
    lifetime.cancel('test');
    await assert.rejects(running, { code: 'SKIFF_CANCELLED' });
    // The model instance is still busy with it: nothing can interrupt a native run.
    assert.equal(scheduler.inFlight, 1);
    held.finish(0, answer(1));
    await settle();
    assert.equal(scheduler.inFlight, 0);
  });

  test('a context already ended is refused without queueing', async () => {
    const { model, scheduler } = setup(1, 10);
    const lifetime = new RequestLifetime('r', { serverMs: 0 });
    lifetime.cancel('gone');
    await assert.rejects(scheduler.submit(request(1), undefined, { context: lifetime }), {
      code: 'SKIFF_CANCELLED',
    });
    assert.equal(model.calls.length, 0);
    assert.equal(scheduler.queued, 0);
  });

  test('a client deadline shorter than the server timeout wins, and says so', async () => {
    const lifetime = new RequestLifetime('r', { serverMs: 60_000, clientMs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(lifetime.signal.aborted, true);
    assert.match((lifetime.signal.reason as Error).message, /within 5 ms \(the client's deadline\)/);
    lifetime.dispose();
  });
});

describe('Scheduler.reserve: a place taken before the inputs are prepared', () => {
  test('counts against the queue: a full model refuses the reservation, and a submit with one gets in', async () => {
    const { held, scheduler } = setup(1, 1);
    const running = scheduler.submit(request(1));
    await settle();
    const place = scheduler.reserve();
    assert.equal(scheduler.full, true);
    assert.throws(() => scheduler.reserve(), { code: 'SKIFF_QUEUE_FULL' });
    await assert.rejects(scheduler.submit(request(9)), { code: 'SKIFF_QUEUE_FULL' });

    const reserved = scheduler.submit(request(2), undefined, { reservation: place });
    await settle();
    assert.deepEqual([scheduler.inFlight, scheduler.queued], [1, 1]);
    held.finish(0, answer(1));
    await running;
    await settle();
    held.finish(1, answer(2));
    await reserved;
    assert.equal(scheduler.full, false);
  });

  test('a released reservation gives its place back, once however often it is released', () => {
    const { scheduler } = setup(1, 0);
    const place = scheduler.reserve();
    assert.equal(scheduler.full, true);
    place.release();
    place.release();
    assert.equal(scheduler.full, false);
    scheduler.reserve().release();
    assert.equal(scheduler.full, false);
  });
});

describe('Scheduler: onSettled, when what a request holds is given back', () => {
  test('once when it leaves the queue unrun, and once after its model call, even when its caller left first', async () => {
    const { held, scheduler } = setup(1, 10);
    const settled: string[] = [];
    const running = new RequestLifetime('r1', { serverMs: 0 });
    const first = scheduler.submit(request(1), undefined, {
      context: running,
      onSettled: () => settled.push('r1'),
    });
    const queued = new RequestLifetime('r2', { serverMs: 0 });
    const second = scheduler.submit(request(2), undefined, {
      context: queued,
      onSettled: () => settled.push('r2'),
    });
    await settle();
    queued.cancel('test');
    await assert.rejects(second, { code: 'SKIFF_CANCELLED' });
    assert.deepEqual(settled, ['r2'], 'left the queue: given back at once');
    running.cancel('test');
    await assert.rejects(first, { code: 'SKIFF_CANCELLED' });
    assert.deepEqual(settled, ['r2'], 'its caller was answered, but the model still runs it');
    held.finish(0, answer(1));
    await settle();
    assert.deepEqual(settled, ['r2', 'r1']);
  });

  test('once when it is refused before it queues', async () => {
    const { scheduler } = setup(1, 0);
    let calls = 0;
    const onSettled = (): void => {
      calls++;
    };
    const first = scheduler.submit(request(1));
    await assert.rejects(scheduler.submit(request(2), undefined, { onSettled }), {
      code: 'SKIFF_QUEUE_FULL',
    });
    assert.equal(calls, 1);
    void first.catch(() => undefined);
  });
});
