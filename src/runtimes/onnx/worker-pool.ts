import { Worker } from 'node:worker_threads';
import type {
  FromWorker,
  OptimizedGraphOutcome,
  ToWorker,
  WireTensor,
  WorkerSlotData,
} from './worker-messages.js';
import type { EncodedImage } from '../../core/model/runtime.js';
import { RUN_MS } from '../../core/model/runtime.js';
import type { ImageInputContract } from '../../core/model/model-config.js';
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
import { blockExit } from '../../host/exit-blockers.js';
import { CANCEL_SLOTS } from './cancel-marks.js';

/** What a job asks of its worker: the 'run' or 'run-image' message without its id, and what it transfers. */
type JobWork =
  | {
      readonly kind: 'run';
      readonly inputs: Record<string, WireTensor>;
      readonly outputNames: readonly string[] | undefined;
    }
  | {
      readonly kind: 'run-image';
      readonly image: EncodedImage;
      readonly input: ImageInputContract;
      readonly outputNames: readonly string[] | undefined;
    };

interface Job {
  readonly id: number;
  /** Its place in its worker's sequence (set when sent): where the worker looks for its cancellation. */
  seq: number;
  readonly work: JobWork;
  readonly resolve: (outputs: Record<string, WireTensor>) => void;
  readonly reject: (error: SkiffError) => void;
  /** Its request's end (client gone, deadline): waiting, it is dropped; running, its worker is told. */
  readonly signal: AbortSignal | undefined;
  onAbort?: () => void;
}

interface Slot {
  readonly worker: Worker;
  /** Shared with the worker: cancelled jobs' seq, each at seq % CANCEL_SLOTS (WorkerSlotData). */
  readonly cancelled: Int32Array;
  /** The jobs sent to this worker and not answered yet, oldest (running) first; at most `depth`. */
  readonly jobs: Job[];
  nextSeq: number;
  ready: boolean;
  exited: boolean;
  /** Says the thread is out of native code again: it is idle in its event loop, or gone. */
  outOfNative: () => void;
}

export interface WorkerPoolOptions {
  readonly script: URL;
  readonly workerData: unknown;
  readonly size: number;
  readonly logger: Logger;
  /** Restarts of crashed workers allowed per minute before the pool stops replacing them. */
  readonly maxRestartsPerMinute?: number;
  /** What the workers serve (the model file), for the log line of a process that cannot exit. */
  readonly label?: string;
  /**
   * Jobs each worker may hold at once (1 by default): with more, a worker decodes the next uploads while it
   * runs the current one. A worker that crashes loses every job it holds, up to this many.
   */
  readonly depth?: number;
}

/** How long close() waits for its workers' threads to end once asked; an idle one takes a few milliseconds. */
const EXIT_WAIT_MS = 2000;

/**
 * N worker threads, each holding one model instance and running one job at a time. Jobs wait here in FIFO
 * order and go to the worker holding the fewest; with `depth` > 1 a worker holds that many, so that it can
 * decode the next upload while it runs the current one, and one crash loses the jobs that worker held
 * (exactly the one that caused it when depth is 1).
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

  /**
   * Starts every worker and waits until each has loaded the model; rejects with the first load error, or with
   * the signal's reason as soon as it aborts. The workers of an aborted start end once they are out of native
   * code; one that never is (stuck opening a file) stays an exit blocker.
   */
  async start(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const started = Array.from({ length: this.options.size }, () => this.spawn());
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<'aborted'>((resolve) => {
      onAbort = () => resolve('aborted');
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    const results = await Promise.race([Promise.allSettled(started), aborted]);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    this.starting = false;
    if (results === 'aborted') {
      // Not awaited: the caller gave up on this load and must hear so now, not when the threads are done.
      void this.close(0);
      throw signal?.reason;
    }
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) {
      await this.close();
      throw failure.reason;
    }
  }

  get busy(): number {
    let count = 0;
    for (const slot of this.slots) if (slot.jobs.length > 0) count++;
    return count;
  }

  /** Jobs the pool takes at once before they wait here: workers x depth. */
  get capacity(): number {
    return this.options.size * this.depth;
  }

  private get depth(): number {
    return Math.min(CANCEL_SLOTS, Math.max(1, this.options.depth ?? 1));
  }

  get queued(): number {
    return this.waiting.length;
  }

  run(
    inputs: Record<string, WireTensor>,
    outputNames?: readonly string[],
  ): Promise<Record<string, WireTensor>> {
    return this.submit({ kind: 'run', inputs, outputNames }, undefined);
  }

  /**
   * An encoded image for a worker that decodes (WorkerInit.imageCodecModule). Once `signal` aborts, a job still
   * waiting here is dropped, and a running one's worker skips whatever it has not begun of decoding and running
   * (it answers SKIFF_CANCELLED).
   */
  runImage(
    image: EncodedImage,
    input: ImageInputContract,
    outputNames: readonly string[] | undefined,
    signal?: AbortSignal,
  ): Promise<Record<string, WireTensor>> {
    return this.submit({ kind: 'run-image', image, input, outputNames }, signal);
  }

  private submit(work: JobWork, signal: AbortSignal | undefined): Promise<Record<string, WireTensor>> {
    if (this.closing)
      return Promise.reject(new SkiffError('SKIFF_SHUTTING_DOWN', 'the model is being unloaded'));
    if (signal?.aborted === true) return Promise.reject(cancelled());
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, seq: 0, work, resolve, reject, signal };
      if (signal !== undefined) {
        job.onAbort = () => {
          const at = this.waiting.indexOf(job);
          if (at !== -1) {
            this.waiting.splice(at, 1);
            reject(cancelled());
            return;
          }
          for (const slot of this.slots)
            if (slot.jobs.includes(job)) Atomics.store(slot.cancelled, job.seq % CANCEL_SLOTS, job.seq);
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.waiting.push(job);
      this.dispatch();
    });
  }

  /**
   * Fails what is still waiting, lets running jobs end for up to `graceMs`, then asks every worker to end and
   * waits briefly for their threads. A worker is never terminated from outside: one inside a native ORT call
   * would abort the whole process when the call returns. A job still running is failed with
   * SKIFF_SHUTTING_DOWN; its thread ends once the call returns, an exit blocker until then.
   */
  async close(graceMs = 60_000): Promise<void> {
    this.closing = true;
    for (const job of this.waiting.splice(0)) {
      job.reject(new SkiffError('SKIFF_SHUTTING_DOWN', 'the model was unloaded before this request ran'));
    }
    const deadline = Date.now() + graceMs;
    while (this.busy > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const slots = [...this.slots];
    this.slots.clear();
    const exits = slots.map((slot) => {
      if (slot.exited) return Promise.resolve();
      const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
      slot.worker.postMessage({ kind: 'exit' } satisfies ToWorker);
      return exited;
    });
    for (const slot of slots) {
      for (const job of slot.jobs.splice(0))
        job.reject(new SkiffError('SKIFF_SHUTTING_DOWN', 'the model was unloaded while this request ran'));
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(exits),
      new Promise((resolve) => (timer = setTimeout(resolve, EXIT_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const shared = new SharedArrayBuffer(CANCEL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
      const slotData: WorkerSlotData = { cancelled: shared };
      const worker = new Worker(this.options.script, {
        workerData: { ...(this.options.workerData as object), ...slotData },
      });
      const slot: Slot = {
        worker,
        cancelled: new Int32Array(shared),
        jobs: [],
        nextSeq: 1,
        ready: false,
        exited: false,
        outOfNative: blockExit(`an inference worker loading ${this.label}`),
      };
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
            slot.outOfNative();
            settled = true;
            resolve();
            this.dispatch();
            return;
          case 'load-failed':
            slot.outOfNative();
            settled = true;
            this.slots.delete(slot);
            // Safe here: having posted this, the worker is idle in its event loop.
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
        slot.exited = true;
        slot.outOfNative();
        this.slots.delete(slot);
        // Every job the worker held is lost with it: the one it ran, and those waiting behind it there.
        for (const job of slot.jobs.splice(0)) {
          job.reject(
            this.closing
              ? new SkiffError('SKIFF_SHUTTING_DOWN', 'the model was unloaded while this request ran')
              : new SkiffError(
                  'SKIFF_WORKER_CRASHED',
                  `the inference worker running this request crashed; it has been replaced, retry the request (exit code ${code})`,
                  { publicMessage: PUBLIC_MESSAGES.SKIFF_WORKER_CRASHED },
                ),
          );
        }
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

  private get label(): string {
    return this.options.label ?? 'a model';
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
    const at = slot.jobs.findIndex((j) => j.id === message.id);
    const [job] = at === -1 ? [] : slot.jobs.splice(at, 1);
    if (slot.jobs.length === 0) slot.outOfNative();
    if (job !== undefined) {
      if (job.onAbort !== undefined) job.signal?.removeEventListener('abort', job.onAbort);
      if (message.kind === 'result') job.resolve(withRunMs(message.outputs, message.runMs));
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
    while (this.waiting.length > 0) {
      // The ready worker holding the fewest jobs: idle workers first, then second places, and so on.
      let slot: Slot | undefined;
      for (const candidate of this.slots) {
        if (!candidate.ready || candidate.jobs.length >= this.depth) continue;
        if (slot === undefined || candidate.jobs.length < slot.jobs.length) slot = candidate;
      }
      const job = slot === undefined ? undefined : this.waiting.shift();
      if (slot === undefined || job === undefined) return;
      job.seq = slot.nextSeq++;
      slot.jobs.push(job);
      if (slot.jobs.length === 1)
        slot.outOfNative = blockExit(`an inference worker running a request on ${this.label}`);
      const work = job.work;
      if (work.kind === 'run') {
        const message: ToWorker = {
          kind: 'run',
          id: job.id,
          seq: job.seq,
          inputs: work.inputs,
          outputNames: work.outputNames,
        };
        slot.worker.postMessage(message, transferables(work.inputs));
      } else {
        // A copy of the file's bytes moves to the worker: the upload may be a view into a larger body.
        const bytes = Uint8Array.prototype.slice.call(work.image.bytes);
        const message: ToWorker = {
          kind: 'run-image',
          id: job.id,
          seq: job.seq,
          image: { ...work.image, bytes },
          input: work.input,
          outputNames: work.outputNames,
        };
        slot.worker.postMessage(message, [bytes.buffer]);
      }
    }
  }
}

/** The worker's own measure of the inference, for the scheduler's compute time (RUN_MS). */
function withRunMs(
  outputs: Record<string, WireTensor>,
  runMs: number | undefined,
): Record<string, WireTensor> {
  if (runMs !== undefined) Object.defineProperty(outputs, RUN_MS, { value: runMs, enumerable: false });
  return outputs;
}

function cancelled(): SkiffError {
  return new SkiffError('SKIFF_CANCELLED', 'the request ended before its inference started');
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
