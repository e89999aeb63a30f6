import { Scheduler } from '../../src/core/batching/scheduler.js';
import { DecodingOnnxModel } from '../../src/runtimes/onnx/onnx-runtime.js';
import type { WorkerPool } from '../../src/runtimes/onnx/worker-pool.js';
import type { WireTensor } from '../../src/runtimes/onnx/worker-messages.js';
import type { EncodedImage } from '../../src/core/model/runtime.js';
import type { ImageInputContract } from '../../src/core/model/model-config.js';

/** A pool fed as `skiff serve` feeds it. */
export interface ScheduledPool {
  readonly scheduler: Scheduler;
  run(inputs: Record<string, WireTensor>): Promise<Record<string, WireTensor>>;
  runImage(
    image: EncodedImage,
    input: ImageInputContract,
    outputNames: readonly string[] | undefined,
    signal?: AbortSignal,
  ): Promise<Record<string, WireTensor>>;
  /** Closes the scheduler (queued jobs fail), then the pool (held jobs get `graceMs` to end). */
  close(graceMs?: number): Promise<void>;
}

/**
 * A started WorkerPool behind the model's Scheduler, as `skiff serve` runs it: the scheduler's queue is the
 * only place jobs wait for a worker, and the pool is handed no more than it can start or hold at once. For
 * tests that give a pool more jobs than it has places.
 */
export function scheduledPool(pool: WorkerPool): ScheduledPool {
  const scheduler = new Scheduler(new DecodingOnnxModel(pool), {
    maxQueueSize: 100,
    concurrency: pool.capacity,
  });
  return {
    scheduler,
    run: (inputs) => scheduler.submit(inputs),
    runImage: (image, input, outputNames, signal) =>
      scheduler.submitImage(image, input, outputNames, {
        context: signal === undefined ? undefined : { id: 'test', deadline: Infinity, signal },
      }),
    close: async (graceMs) => {
      scheduler.close();
      await pool.close(graceMs);
    },
  };
}
