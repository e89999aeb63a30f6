// The model worker's image path (LoadedModel.inferImage): uploads decoded and packed by the image thread of
// the worker that runs the model, which holds up to three jobs (as in production) so that the next upload is
// prepared while it runs the current one. The request lifecycle's guarantees, pipelined: a request that ended
// while it waited in the scheduler's queue (the only one: the pool makes nothing wait) is never sent, one that
// ends while held in the worker or while its image decodes is never run, decode failures keep their codes, a
// packed input is never run for another request's, and a worker that dies (here: its image thread) loses
// exactly the jobs it held (the ones waiting in the queue are served by its replacement). The real ONNX worker
// and a tiny fixture model; a fake codec (test/fixtures/fake-codec.ts) decides how long decoding takes and
// logs every decode.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkerPool } from '../../src/runtimes/onnx/worker-pool.js';
import type { WireTensor, WorkerInit } from '../../src/runtimes/onnx/worker-messages.js';
import type { ImageInputContract } from '../../src/core/model/model-config.js';
import type { EncodedImage } from '../../src/core/model/runtime.js';
import { silentLogger } from '../../src/core/logger.js';
import { fixtureModel } from '../helpers/paths.js';
import type { ScheduledPool } from '../helpers/scheduled-pool.js';
import { scheduledPool } from '../helpers/scheduled-pool.js';

const INPUT: ImageInputContract = {
  name: 'input',
  layout: 'NCHW',
  dtype: 'float32',
  colorOrder: 'RGB',
  height: 8,
  width: 8,
  resizeMode: 'stretch',
  resizeShorterSide: 8,
  scale: 1 / 255,
  mean: [0, 0, 0],
  std: [1, 1, 1],
};

/** An upload for the fake codec: what it does, a tag for its log, the grey it decodes to. */
const upload = (kind: number, tag: number, grey = 128): EncodedImage => ({
  bytes: Uint8Array.of(kind, tag, grey),
  header: { format: 'fake', width: 8, height: 8, hasAlpha: false },
  maxPixels: 1_000_000,
});

/** The tiny model's input as a tensor, for the tensor path beside the image path. */
const greyTensor = (): Record<string, WireTensor> => ({
  input: { type: 'FP32', shape: [1, 3, 8, 8], data: new Float32Array(3 * 8 * 8).fill(0.5) },
});

/** Keeps this thread's event loop from turning for `ms`, as a long burst of work on it would. */
function holdUpEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** A one-worker pool on the tiny model with the fake codec (and `extra`), behind its scheduler too. */
interface ImagePool {
  readonly pool: WorkerPool;
  /** The same pool behind its scheduler, for tests that give it more jobs than the worker holds. */
  readonly queue: ScheduledPool;
  /** Where the fake decoders log what they decode. */
  readonly log: string;
  readonly stop: () => Promise<void>;
}

async function startImagePool(extra: Partial<WorkerInit> = {}): Promise<ImagePool> {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-image-path-'));
  const log = path.join(dir, 'decodes.log');
  writeFileSync(log, '');
  // Worker threads copy the environment they start with.
  process.env.FAKE_CODEC_LOG = log;
  const init: WorkerInit = {
    modelPath: fixtureModel('tiny-color/model.onnx'),
    threads: 1,
    imageCodecModule: new URL('../fixtures/fake-codec.js', import.meta.url).href,
    ...extra,
  };
  const pool = new WorkerPool({
    script: new URL('../../src/runtimes/onnx/onnx-worker.js', import.meta.url),
    workerData: init,
    size: 1,
    logger: silentLogger,
    depth: 3,
  });
  await pool.start();
  const queue = scheduledPool(pool);
  return {
    pool,
    queue,
    log,
    stop: async () => {
      await queue.close();
      delete process.env.FAKE_CODEC_LOG;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe("images decoded in the model's worker", () => {
  let log: string;
  let pool: WorkerPool;
  let queue: ScheduledPool;
  let stop: () => Promise<void>;

  before(async () => {
    ({ pool, queue, log, stop } = await startImagePool());
  });

  after(() => stop());

  const decoded = (): number[] =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);

  test('an image is decoded, packed and run in the worker: logits come back', async () => {
    const outputs = await pool.runImage(upload(0, 1), INPUT, undefined);
    assert.deepEqual(outputs.logits?.shape, [1, 4]);
    assert.ok(decoded().includes(1));
  });

  test("the worker's image thread packs each upload into a buffer that goes round: every answer is its own image's", async () => {
    const greys = [10, 60, 110, 160, 210, 250];
    const alone: number[][] = [];
    for (const grey of greys)
      alone.push([
        ...((await pool.runImage(upload(0, 30, grey), INPUT, undefined)).logits?.data as Float32Array),
      ]);
    assert.equal(new Set(alone.map((l) => l.join())).size, greys.length, 'the model tells these greys apart');
    // Twice as many as the worker holds, twice over: buffers given back are packed into again.
    for (let round = 0; round < 2; round++) {
      const together = await Promise.all(
        greys.map((grey) => queue.runImage(upload(0, 31, grey), INPUT, undefined)),
      );
      together.forEach((outputs, i) =>
        assert.deepEqual([...(outputs.logits?.data as Float32Array)], alone[i]),
      );
    }
  });

  test('a request that ended while it waited in the queue is never sent to the worker, so never decoded', async () => {
    // The worker holds three jobs; the fourth waits in the scheduler's queue.
    const held = [upload(1, 2), upload(0, 20), upload(0, 21)].map((image) =>
      queue.runImage(image, INPUT, undefined),
    );
    const abort = new AbortController();
    const waiting = queue.runImage(upload(0, 3), INPUT, undefined, abort.signal);
    abort.abort();
    await assert.rejects(waiting, { code: 'SKIFF_CANCELLED' });
    await Promise.all(held);
    assert.ok(decoded().includes(2));
    assert.ok(!decoded().includes(3), 'the abandoned image was decoded');
  });

  test('a request that ends while held in the worker behind another is not run: SKIFF_CANCELLED', async () => {
    const running = pool.runImage(upload(1, 10), INPUT, undefined);
    const abort = new AbortController();
    const behind = pool.runImage(upload(0, 11), INPUT, undefined, abort.signal);
    setTimeout(() => abort.abort(), 50);
    await assert.rejects(behind, { code: 'SKIFF_CANCELLED' });
    assert.deepEqual((await running).logits?.shape, [1, 4]);
  });

  test('a tensor request that ends while held in the worker behind another is not run: SKIFF_CANCELLED', async () => {
    const running = pool.runImage(upload(1, 14), INPUT, undefined);
    const abort = new AbortController();
    const behind = pool.run(greyTensor(), undefined, abort.signal);
    setTimeout(() => abort.abort(), 50);
    await assert.rejects(behind, { code: 'SKIFF_CANCELLED' });
    assert.deepEqual((await running).logits?.shape, [1, 4]);
  });

  test('a job held behind another starts only once the event loop has polled since its hand-over: a leaving read late still stops it', async () => {
    // The event loop is held up (as by a burst of other uploads) from the hand-over until well after the
    // running job's end, and reads the client's leaving only then, before its next poll: the worker, which
    // would otherwise have started the held job meanwhile, waits for that poll and skips it.
    const running = pool.runImage(upload(1, 15), INPUT, undefined);
    const abort = new AbortController();
    const behind = pool.run(greyTensor(), undefined, abort.signal);
    holdUpEventLoop(700);
    abort.abort();
    assert.deepEqual((await running).logits?.shape, [1, 4]);
    await assert.rejects(behind, { code: 'SKIFF_CANCELLED' });
  });

  test('so does a job handed to an idle worker', async () => {
    const abort = new AbortController();
    const job = pool.run(greyTensor(), undefined, abort.signal);
    holdUpEventLoop(300);
    abort.abort();
    await assert.rejects(job, { code: 'SKIFF_CANCELLED' });
    assert.deepEqual((await pool.run(greyTensor())).logits?.shape, [1, 4]);
  });

  test('a request that ends while its image decodes is not run: the worker answers SKIFF_CANCELLED', async () => {
    const abort = new AbortController();
    const job = pool.runImage(upload(1, 4), INPUT, undefined, abort.signal);
    setTimeout(() => abort.abort(), 50);
    await assert.rejects(job, { code: 'SKIFF_CANCELLED' });
    assert.ok(decoded().includes(4), 'its decoding had begun');
    // The worker is free again for the next request.
    assert.deepEqual((await pool.runImage(upload(0, 5), INPUT, undefined)).logits?.shape, [1, 4]);
  });

  test("a decode failure keeps the codec's code and words, and only that request fails", async () => {
    await assert.rejects(pool.runImage(upload(3, 6), INPUT, undefined), {
      code: 'SKIFF_UNDECODABLE_IMAGE',
      message: 'fake: not an image',
    });
    assert.deepEqual((await pool.runImage(upload(0, 7), INPUT, undefined)).logits?.shape, [1, 4]);
  });

  test('a worker that dies loses exactly the jobs it held; the one waiting in the queue is served', async () => {
    const lost = [upload(1, 8), upload(0, 12), upload(2, 13)].map((image) =>
      queue.runImage(image, INPUT, undefined),
    );
    const next = queue.runImage(upload(0, 9), INPUT, undefined);
    for (const job of lost) await assert.rejects(job, { code: 'SKIFF_WORKER_CRASHED' });
    assert.deepEqual((await next).logits?.shape, [1, 4]);
  });
});

describe('an upload that finds the worker idle is decoded by the worker itself', () => {
  let log: string;
  let pool: WorkerPool;
  let queue: ScheduledPool;
  let stop: () => Promise<void>;

  before(async () => {
    ({ pool, queue, log, stop } = await startImagePool({
      imageDecoderModule: new URL('../fixtures/fake-sync-decoder.js', import.meta.url).href,
    }));
  });

  after(() => stop());

  /** Who decoded the upload tagged `tag`: the worker ('here'), its image thread ('thread'), or both. */
  const decoder = (tag: number): string[] =>
    readFileSync(log, 'utf8')
      .split('\n')
      .flatMap((line) => {
        if (line === `here ${String(tag)}`) return ['here'];
        return line === String(tag) ? ['thread'] : [];
      });

  test('alone it is decoded here; the uploads that come while the worker holds another go to its image thread', async () => {
    assert.deepEqual((await pool.runImage(upload(4, 50), INPUT, undefined)).logits?.shape, [1, 4]);
    assert.deepEqual(decoder(50), ['here']);
    // The first is not one the worker's decoder takes (kind 1: 300 ms on the image thread); the worker holds it
    // while the next two arrive, so it is not idle for them.
    await Promise.all(
      [upload(1, 51), upload(4, 52), upload(4, 53)].map((image) => pool.runImage(image, INPUT, undefined)),
    );
    assert.deepEqual([decoder(51), decoder(52), decoder(53)], [['thread'], ['thread'], ['thread']]);
    await pool.runImage(upload(4, 54), INPUT, undefined);
    assert.deepEqual(decoder(54), ['here']);
  });

  test('inputs packed here and on the image thread both go round: every answer is its own image', async () => {
    const greys = [10, 60, 110, 160, 210, 250];
    const alone: number[][] = [];
    for (const grey of greys)
      alone.push([
        ...((await pool.runImage(upload(4, 60, grey), INPUT, undefined)).logits?.data as Float32Array),
      ]);
    assert.equal(new Set(alone.map((l) => l.join())).size, greys.length, 'the model tells these greys apart');
    for (let round = 0; round < 3; round++) {
      const together = await Promise.all(
        greys.map((grey) => queue.runImage(upload(4, 61 + round, grey), INPUT, undefined)),
      );
      together.forEach((outputs, i) =>
        assert.deepEqual([...(outputs.logits?.data as Float32Array)], alone[i]),
      );
      const [first, ...rest] = decoder(61 + round);
      assert.equal(first, 'here', 'the first of each round finds the worker idle');
      assert.ok(rest.includes('thread'), `the others are decoded by the image thread: ${rest.join()}`);
    }
  });

  test("a failure here keeps the decoder's code and words, and only that request fails", async () => {
    await assert.rejects(pool.runImage(upload(5, 70), INPUT, undefined), {
      code: 'SKIFF_UNDECODABLE_IMAGE',
      message: 'fake here: not an image',
    });
    assert.deepEqual(decoder(70), ['here']);
    assert.deepEqual((await pool.runImage(upload(4, 71), INPUT, undefined)).logits?.shape, [1, 4]);
  });
});
