import { Worker } from 'node:worker_threads';
import type { FromWorker, OptimizedGraphOutcome, ToWorker, WireTensor } from './worker-messages.js';
import type { TensorInfo } from '../../core/tensor/tensor.js';
import type { Logger } from '../../core/logger.js';
import type { InstanceLoadTimings } from '../../core/model/runtime.js';
import { SkiffError } from '../../core/errors.js';
import type { ErrorCode } from '../../core/errors.js';

/** What clients read of a failed run (the runtime's own text goes to the log only). */
const PUBLIC_MESSAGES: Partial<Record<ErrorCode, string>> = {
  SKIFF_INFERENCE_FAILED:
    'the model failed on these inputs: ONNX Runtime refused them (often a dynamic dimension the graph cannot take)',
  SKIFF_WORKER_CRASHED:
    'the inference worker running this request crashed; it has been replaced, retry the request',
};

interface Job {
  readonly id: number;
  readonly inputs: Record<string, WireTensor>;
  readonly outputNames: readonly string[] | undefined;
  readonly resolve: (outputs: Record<string, WireTensor>) => void;
  readonly reject: (error: SkiffError) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
  ready: boolean;
}

export interface WorkerPoolOptions {
  readonly script: URL;
  readonly workerData: unknown;
  readonly size: number;
  readonly logger: Logger;
  /** Restarts of crashed workers allowed per minute before the pool stops replacing them. */
  readonly maxRestartsPerMinute?: number;
}

/**
 * N worker threads, each holding one model instance and running one job at a time, so one crash loses
 * exactly the job that caused it. Jobs wait in FIFO order and go to whichever worker is idle first.
 */
export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly waiting: Job[] = [];
  private nextId = 1;
  private closing = false;
  private restarts: number[] = [];
  inputs: TensorInfo[] = [];
  outputs: TensorInfo[] = [];
  /** What each start-up worker did with the optimized-graph cache, in start order (replacements not counted). */
  readonly optimizedGraphs: OptimizedGraphOutcome[] = [];
  /** Every worker started so far warmed itself up before saying it was ready. */
  warmedUp = true;
  /** The slowest start-up worker's session creation and warm-up, in ms (replacements not counted). */
  loadTimings: InstanceLoadTimings | undefined;
  private starting = true;

  constructor(private readonly options: WorkerPoolOptions) {}

  /** Starts every worker and waits until each has loaded the model; rejects with the first load error. */
  async start(): Promise<void> {
    const started = Array.from({ length: this.options.size }, () => this.spawn());
    const results = await Promise.allSettled(started);
    this.starting = false;
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) {
      await this.close();
      throw failure.reason;
    }
  }

  get busy(): number {
    let count = 0;
    for (const slot of this.slots) if (slot.job !== undefined) count++;
    return count;
  }

  get queued(): number {
    return this.waiting.length;
  }

  run(
    inputs: Record<string, WireTensor>,
    outputNames?: readonly string[],
  ): Promise<Record<string, WireTensor>> {
    if (this.closing)
      return Promise.reject(new SkiffError('SKIFF_SHUTTING_DOWN', 'the model is being unloaded'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ id: this.nextId++, inputs, outputNames, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Fails what is still waiting, lets running jobs end (terminating a worker inside a native ORT call
   * aborts the whole process), then stops the workers; after `graceMs` it terminates regardless.
   */
  async close(graceMs = 60_000): Promise<void> {
    this.closing = true;
    for (const job of this.waiting.splice(0)) {
      job.reject(new SkiffError('SKIFF_SHUTTING_DOWN', 'the model was unloaded before this request ran'));
    }
    const deadline = Date.now() + graceMs;
    while (this.busy > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
    this.slots.clear();
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(this.options.script, { workerData: this.options.workerData });
      const slot: Slot = { worker, job: undefined, ready: false };
      this.slots.add(slot);
      let settled = false;
      worker.on('message', (message: FromWorker) => {
        switch (message.kind) {
          case 'ready':
            this.inputs = message.inputs;
            this.outputs = message.outputs;
            this.warmedUp &&= message.warmedUp;
            if (this.starting) {
              this.optimizedGraphs.push(message.optimizedGraph);
              this.loadTimings = {
                sessionCreateMs: Math.max(this.loadTimings?.sessionCreateMs ?? 0, message.sessionCreateMs),
                warmUpMs: Math.max(this.loadTimings?.warmUpMs ?? 0, message.warmUpMs),
              };
            }
            slot.ready = true;
            settled = true;
            resolve();
            this.dispatch();
            return;
          case 'load-failed':
            settled = true;
            this.slots.delete(slot);
            void worker.terminate();
            reject(
              new SkiffError('SKIFF_MODEL_LOAD_FAILED', `the model could not be loaded: ${message.message}`),
            );
            return;
          case 'result':
          case 'failed':
            this.finish(slot, message);
            return;
        }
      });
      worker.on('error', (error) => {
        this.options.logger.error('inference worker crashed', { error: error.message });
      });
      worker.on('exit', (code) => {
        this.slots.delete(slot);
        const job = slot.job;
        slot.job = undefined;
        job?.reject(
          this.closing
            ? new SkiffError('SKIFF_SHUTTING_DOWN', 'the model was unloaded while this request ran')
            : new SkiffError(
                'SKIFF_WORKER_CRASHED',
                `the inference worker running this request crashed; it has been replaced, retry the request (exit code ${code})`,
                { publicMessage: PUBLIC_MESSAGES.SKIFF_WORKER_CRASHED },
              ),
        );
        if (!settled) {
          settled = true;
          reject(
            new SkiffError(
              'SKIFF_MODEL_LOAD_FAILED',
              `the inference worker exited with code ${code} while loading the model`,
            ),
          );
          return;
        }
        if (!this.closing) this.replace();
      });
    });
  }

  private replace(): void {
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    if (this.restarts.length >= (this.options.maxRestartsPerMinute ?? 10)) {
      this.options.logger.error('inference workers keep crashing; not replacing this one', {
        workers: this.slots.size,
      });
      if (this.slots.size === 0) this.failWaiting();
      return;
    }
    this.restarts.push(now);
    this.spawn().catch((error: unknown) => {
      this.options.logger.error('replacement inference worker failed to start', {
        error: error instanceof Error ? error.message : String(error),
      });
      if (this.slots.size === 0) this.failWaiting();
    });
  }

  private failWaiting(): void {
    for (const job of this.waiting.splice(0)) {
      job.reject(new SkiffError('SKIFF_MODEL_NOT_READY', 'no inference worker is running for this model'));
    }
  }

  private finish(slot: Slot, message: Extract<FromWorker, { kind: 'result' | 'failed' }>): void {
    const job = slot.job;
    slot.job = undefined;
    if (job !== undefined && job.id === message.id) {
      if (message.kind === 'result') job.resolve(message.outputs);
      else
        job.reject(
          new SkiffError(
            message.code,
            message.code === 'SKIFF_INFERENCE_FAILED' ? `ONNX Runtime: ${message.message}` : message.message,
            { publicMessage: PUBLIC_MESSAGES[message.code] },
          ),
        );
    }
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.waiting.length === 0) return;
      if (!slot.ready || slot.job !== undefined) continue;
      const job = this.waiting.shift();
      if (job === undefined) return;
      slot.job = job;
      const message: ToWorker = { kind: 'run', id: job.id, inputs: job.inputs, outputNames: job.outputNames };
      slot.worker.postMessage(message, transferables(job.inputs));
    }
  }
}

/** Buffers that belong wholly to one tensor move to the worker without a copy; shared ones are copied. */
function transferables(inputs: Record<string, WireTensor>): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const tensor of Object.values(inputs)) {
    const data = tensor.data;
    if (Array.isArray(data)) continue;
    const buffer = data.buffer;
    if (
      buffer instanceof ArrayBuffer &&
      data.byteOffset === 0 &&
      data.byteLength === buffer.byteLength &&
      !list.includes(buffer)
    ) {
      list.push(buffer);
    }
  }
  return list;
}
