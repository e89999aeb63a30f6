import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkerPool } from '../../src/runtimes/onnx/worker-pool.js';
import { silentLogger } from '../../src/core/logger.js';
import { SkiffError } from '../../src/core/errors.js';
import { exitBlockers } from '../../src/host/exit-blockers.js';
import { fixtureModel } from '../helpers/paths.js';
import { scheduledPool } from '../helpers/scheduled-pool.js';
import type { WireTensor } from '../../src/runtimes/onnx/worker-messages.js';

const script = new URL('../fixtures/fake-worker.js', import.meta.url);
const x = (value: number): Record<string, WireTensor> => ({
  x: { type: 'FP32', shape: [1], data: new Float32Array([value]) },
});
const y = (outputs: Record<string, WireTensor>): number | undefined =>
  (outputs.y?.data as Float32Array | undefined)?.[0];

for (const [title, crashValue] of [
  ['exits', 1],
  ['throws an uncaught error', 2],
] as const) {
  test(`a worker that ${title} fails only its own request, and is replaced`, async () => {
    const pool = new WorkerPool({ script, workerData: { delayMs: 30 }, size: 2, logger: silentLogger });
    await pool.start();
    // More jobs than workers: the rest wait in the scheduler's queue, as they do in the server.
    const queue = scheduledPool(pool);
    try {
      const others = [10, 11, 12, 13, 14, 15].map((v) => queue.run(x(v)));
      const crashing = queue.run(x(crashValue));
      await assert.rejects(crashing, (error: { code?: string; message?: string }) => {
        assert.equal(error.code, 'SKIFF_WORKER_CRASHED');
        assert.match(error.message ?? '', /crashed; it has been replaced, retry/);
        return true;
      });
      assert.deepEqual((await Promise.all(others)).map(y), [10, 11, 12, 13, 14, 15]);
      // The replacement comes up and the pool is back to full strength.
      const after = await Promise.all([20, 21, 22, 23].map((v) => queue.run(x(v))));
      assert.deepEqual(after.map(y), [20, 21, 22, 23]);
    } finally {
      await queue.close();
    }
  });
}

test('a failure reported by the worker reaches only that request, with its code', async () => {
  const pool = new WorkerPool({ script, workerData: { delayMs: 1 }, size: 1, logger: silentLogger });
  await pool.start();
  try {
    await assert.rejects(pool.run(x(3)), { code: 'SKIFF_BAD_TENSOR', message: 'fake bad tensor' });
    assert.equal(y(await pool.run(x(5))), 5);
  } finally {
    await pool.close();
  }
});

test('jobs spread over the workers: four concurrent jobs run on both workers', async () => {
  const pool = new WorkerPool({ script, workerData: { delayMs: 100 }, size: 2, logger: silentLogger });
  await pool.start();
  const queue = scheduledPool(pool);
  try {
    const results = await Promise.all([1.5, 2.5, 3.5, 4.5].map((v) => queue.run(x(v))));
    const threads = results.map((r) => (r.thread?.data as Int32Array | undefined)?.[0]);
    assert.equal(new Set(threads).size, 2, `threads: ${threads.join(',')}`);
  } finally {
    await queue.close();
  }
});

test('nothing waits in the pool: it takes a job per place, refuses the next at once, and `free` counts the places', async () => {
  const pool = new WorkerPool({
    script,
    workerData: { delayMs: 100 },
    size: 2,
    logger: silentLogger,
    depth: 2,
  });
  await pool.start();
  try {
    assert.equal(pool.free, 4);
    const held = [1.5, 2.5, 3.5, 4.5].map((v) => pool.run(x(v)));
    assert.equal(pool.free, 0);
    await assert.rejects(pool.run(x(5.5)), { code: 'SKIFF_INTERNAL' });
    assert.deepEqual((await Promise.all(held)).map(y), [1.5, 2.5, 3.5, 4.5]);
    assert.equal(pool.free, 4);
  } finally {
    await pool.close();
  }
});

test('once no worker is left and none is coming, what waited in the queue and what comes later fail at once: SKIFF_MODEL_NOT_READY', async () => {
  const pool = new WorkerPool({
    script,
    workerData: { delayMs: 1 },
    size: 1,
    logger: silentLogger,
    maxRestartsPerMinute: 0,
  });
  await pool.start();
  const queue = scheduledPool(pool);
  try {
    const crashing = queue.run(x(1));
    const waiting = queue.run(x(5));
    await assert.rejects(crashing, { code: 'SKIFF_WORKER_CRASHED' });
    await assert.rejects(waiting, { code: 'SKIFF_MODEL_NOT_READY' });
    await assert.rejects(queue.run(x(6)), { code: 'SKIFF_MODEL_NOT_READY' });
    assert.deepEqual([queue.scheduler.inFlight, queue.scheduler.queued], [0, 0]);
  } finally {
    await queue.close();
  }
});

test('a load failure rejects start() with SKIFF_MODEL_LOAD_FAILED and leaves no worker running', async () => {
  const pool = new WorkerPool({
    script,
    workerData: { delayMs: 1, failLoad: true },
    size: 2,
    logger: silentLogger,
  });
  await assert.rejects(pool.start(), {
    code: 'SKIFF_MODEL_LOAD_FAILED',
    message: 'the model could not be loaded: fake load failure',
  });
});

test('close() lets the running job finish, fails queued jobs with SKIFF_SHUTTING_DOWN, and a grace of 0 cuts the running one', async () => {
  const pool = new WorkerPool({ script, workerData: { delayMs: 200 }, size: 1, logger: silentLogger });
  await pool.start();
  // The second job waits in the scheduler's queue, the only one: closing it fails that job, then the pool's
  // close lets the running one finish.
  const queue = scheduledPool(pool);
  const running = queue.run(x(7)).then(y);
  const queued = assert.rejects(queue.run(x(8)), {
    code: 'SKIFF_SHUTTING_DOWN',
    message: 'the model was unloaded before this request ran',
  });
  await queue.close();
  const [value] = await Promise.all([running, queued]);
  assert.equal(value, 7);
  const impatient = new WorkerPool({ script, workerData: { delayMs: 500 }, size: 1, logger: silentLogger });
  await impatient.start();
  const cut = assert.rejects(impatient.run(x(9)), {
    code: 'SKIFF_SHUTTING_DOWN',
    message: 'the model was unloaded while this request ran',
  });
  await impatient.close(0);
  await cut;
  await assert.rejects(pool.run(x(9)), { code: 'SKIFF_SHUTTING_DOWN' });
});

test(
  'an aborted start rejects at once; a worker stuck inside ONNX Runtime is asked, never forced, to end, and ends once ORT returns',
  { timeout: 60_000 },
  async () => {
    // ORT opening a FIFO blocks in native code until a writer comes: a load that does not return. Terminating
    // the worker then would abort this whole process as soon as ORT returned.
    const dir = mkdtempSync(path.join(tmpdir(), 'skiff-worker-pool-test-'));
    const fifo = path.join(dir, 'model.onnx');
    execFileSync('mkfifo', [fifo]);
    const pool = new WorkerPool({
      script: new URL('../../src/runtimes/onnx/onnx-worker.js', import.meta.url),
      workerData: { modelPath: fifo, threads: 1 },
      size: 1,
      logger: silentLogger,
      label: fifo,
    });
    const abort = new AbortController();
    const starting = pool.start(abort.signal);
    // Opening the write end succeeds only once ORT has opened the FIFO: from then on it waits in read().
    let writer: number | undefined;
    while (writer === undefined) {
      try {
        writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    try {
      const reason = new SkiffError('SKIFF_MODEL_LOAD_FAILED', 'given up');
      abort.abort(reason);
      await assert.rejects(starting, (error: unknown) => error === reason);
      assert.deepEqual(exitBlockers(), [`an inference worker loading ${fifo}`]);
      // The pool asked the worker to end; it cannot until ORT returns.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(exitBlockers(), [`an inference worker loading ${fifo}`]);
    } finally {
      // The "mount comes back": ORT gets the model, creates the session, and the worker, back in JavaScript,
      // handles the request to end.
      writeSync(writer, readFileSync(fixtureModel('tiny-color/model.onnx')));
      closeSync(writer);
    }
    while (exitBlockers().length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    rmSync(dir, { recursive: true, force: true });
  },
);
