import type { FromWorker, OptimizedGraphOutcome, WireTensor } from './worker-messages.js';
import type { EncodedImage, InstanceLoadTimings } from '../../core/model/runtime.js';
import type { ImageInputContract } from '../../core/model/model-config.js';
import type { TensorInfo } from '../../core/tensor/tensor.js';
import type { Logger } from '../../core/logger.js';
import { SkiffError } from '../../core/errors.js';
import { MARK_SLOTS } from './seq-marks.js';
import type { Job, JobWork } from './pool-job.js';
import { answerJob, failJob, workerCrashed } from './pool-job.js';
import type { WorkerSlot } from './worker-slot.js';
import { askToExit, holdJob, leastLoaded, startSlot, takeJob } from './worker-slot.js';
import { RestartBudget } from './restart-budget.js';

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
 * N worker threads, each holding one model instance and running one job at a time. Nothing waits here: a job
 * goes at once to the ready worker holding the fewest, and the caller (the scheduler, whose queue is the only
 * one) hands over no more than `free` says. With `depth` > 1 a worker holds that many, so that it can decode
 * the next upload while it runs the current one, and one crash loses the jobs that worker held (exactly the
 * one that caused it when depth is 1).
 */
export class WorkerPool {
  private readonly slots = new Set<WorkerSlot>();
  private nextId = 1;
  private closing = false;
  private starting = true;
  private readonly restarts: RestartBudget;
  private onFree: (() => void) | undefined;
  inputs: TensorInfo[] = [];
  outputs: TensorInfo[] = [];
  /** What each start-up worker did with the optimized-graph cache, in start order (replacements not counted). */
  readonly optimizedGraphs: OptimizedGraphOutcome[] = [];
  /** Every worker started so far warmed itself up before saying it was ready. */
  warmedUp = true;
  /** The slowest start-up worker's session creation and warm-up, in ms (replacements not counted). */
  loadTimings: InstanceLoadTimings | undefined;

  constructor(private readonly options: WorkerPoolOptions) {
    this.restarts = new RestartBudget(options.maxRestartsPerMinute ?? 10);
  }

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

  private get busy(): number {
    let count = 0;
    for (const slot of this.slots) if (slot.jobs.length > 0) count++;
    return count;
  }

  /** Jobs the pool holds at most: workers x depth. */
  get capacity(): number {
    return this.options.size * this.depth;
  }

  /**
   * Jobs it takes right now: the free places on its ready workers. Infinity once it can serve nothing more
   * (closing, or no worker left and none coming): whatever it is handed then fails at once.
   */
  get free(): number {
    if (this.closing || this.gone) return Infinity;
    let free = 0;
    for (const slot of this.slots) if (slot.ready) free += this.depth - slot.jobs.length;
    return free;
  }

  /**
   * `listener` hears whenever `free` grows other than by a job's answer: a worker became ready (a crashed
   * one's replacement), or the pool can serve nothing more. One listener; a later call replaces it.
   */
  whenFree(listener: () => void): void {
    this.onFree = listener;
  }

  private get depth(): number {
    return Math.min(MARK_SLOTS, Math.max(1, this.options.depth ?? 1));
  }

  /** No worker left, and none coming. */
  private get gone(): boolean {
    return !this.starting && this.slots.size === 0;
  }

  /** Tensors to run as they are. Once `signal` aborts, the worker skips the job if it has not begun its run. */
  run(
    inputs: Record<string, WireTensor>,
    outputNames?: readonly string[],
    signal?: AbortSignal,
  ): Promise<Record<string, WireTensor>> {
    return this.submit({ kind: 'run', inputs, outputNames }, signal);
  }

  /**
   * An encoded image for a worker that decodes (WorkerInit.imageCodecModule). Once `signal` aborts, the worker
   * skips whatever it has not begun of decoding and running the job (it answers SKIFF_CANCELLED).
   */
  runImage(
    image: EncodedImage,
    input: ImageInputContract,
    outputNames: readonly string[] | undefined,
    signal?: AbortSignal,
  ): Promise<Record<string, WireTensor>> {
    return this.submit({ kind: 'run-image', image, input, outputNames }, signal);
  }

  /** Sends a job to the ready worker holding the fewest, now, or refuses it: nothing waits here. */
  private submit(work: JobWork, signal: AbortSignal | undefined): Promise<Record<string, WireTensor>> {
    const slot = this.closing || signal?.aborted === true ? undefined : leastLoaded(this.slots, this.depth);
    if (slot === undefined) return Promise.reject(this.refusal(signal));
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, seq: slot.nextSeq++, work, resolve, reject, signal };
      if (signal !== undefined) {
        // Only the worker can drop the job now: the mark reaches it even in the middle of a run.
        job.onAbort = () => slot.marks.mark(job.seq);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      holdJob(slot, job, this.label);
    });
  }

  private refusal(signal: AbortSignal | undefined): SkiffError {
    if (this.closing) return new SkiffError('SKIFF_SHUTTING_DOWN', 'the model is being unloaded');
    if (signal?.aborted === true)
      return new SkiffError('SKIFF_CANCELLED', 'the request ended before its inference started');
    if (this.gone)
      return new SkiffError('SKIFF_MODEL_NOT_READY', 'no inference worker is running for this model');
    return new SkiffError(
      'SKIFF_INTERNAL',
      'every inference worker is full; jobs must wait for `free` places',
    );
  }

  /**
   * Lets held jobs end for up to `graceMs`, then asks every worker to end and waits briefly for their threads.
   * A worker is never terminated from outside: one inside a native ORT call would abort the whole process when
   * the call returns. A job still held is failed with SKIFF_SHUTTING_DOWN; its thread ends once the call
   * returns, an exit blocker until then.
   */
  async close(graceMs = 60_000): Promise<void> {
    this.closing = true;
    // Whatever still waits for a place is handed over now, and told at once that the model is going.
    this.onFree?.();
    const deadline = Date.now() + graceMs;
    while (this.busy > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const slots = [...this.slots];
    this.slots.clear();
    const exits = slots.map((slot) => askToExit(slot));
    for (const slot of slots) {
      for (const job of slot.jobs.splice(0)) failJob(job, unloadedWhileRunning());
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
      const slot = startSlot(this.options.script, this.options.workerData, this.label);
      this.slots.add(slot);
      let loading = true;
      const loaded = (error?: SkiffError): void => {
        loading = false;
        if (error === undefined) resolve();
        else reject(error);
      };
      slot.worker.on('message', (message: FromWorker) => this.heard(slot, message, loaded));
      slot.worker.on('error', (error) => {
        this.options.logger.error('inference worker crashed', { error: error.message });
      });
      slot.worker.on('exit', (code) => {
        this.exited(slot, code);
        const text = `the inference worker exited with code ${code} while loading the model`;
        if (loading) loaded(new SkiffError('SKIFF_MODEL_LOAD_FAILED', text));
        else if (!this.closing) this.replace();
      });
    });
  }

  /** A worker's message: an answer to a job it held, or how its load went (`loaded`). */
  private heard(slot: WorkerSlot, message: FromWorker, loaded: (error?: SkiffError) => void): void {
    switch (message.kind) {
      case 'result':
      case 'failed': {
        const job = takeJob(slot, message.id);
        if (job !== undefined) answerJob(job, message);
        return;
      }
      case 'ready':
        this.ready(slot, message);
        loaded();
        return;
      case 'load-failed':
        this.loadFailed(slot);
        loaded(
          new SkiffError('SKIFF_MODEL_LOAD_FAILED', `the model could not be loaded: ${message.message}`),
        );
        return;
    }
  }

  private get label(): string {
    return this.options.label ?? 'a model';
  }

  private ready(slot: WorkerSlot, message: Extract<FromWorker, { kind: 'ready' }>): void {
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
    this.onFree?.();
  }

  private loadFailed(slot: WorkerSlot): void {
    slot.outOfNative();
    this.slots.delete(slot);
    // Safe here: having posted this, the worker is idle in its event loop.
    void slot.worker.terminate();
  }

  /** Every job the worker held is lost with it: the one it ran, and those it held behind it. */
  private exited(slot: WorkerSlot, code: number): void {
    slot.exited = true;
    slot.outOfNative();
    this.slots.delete(slot);
    for (const job of slot.jobs.splice(0))
      failJob(job, this.closing ? unloadedWhileRunning() : workerCrashed(code));
  }

  private replace(): void {
    if (!this.restarts.take()) {
      this.options.logger.error('inference workers keep crashing; not replacing this one', {
        workers: this.slots.size,
      });
      this.tellIfGone();
      return;
    }
    this.spawn().catch((error: unknown) => {
      this.options.logger.error('replacement inference worker failed to start', {
        error: error instanceof Error ? error.message : String(error),
      });
      this.tellIfGone();
    });
  }

  /** With no worker left and none coming, what waits for a place is handed over, to fail at once. */
  private tellIfGone(): void {
    if (this.gone) this.onFree?.();
  }
}

function unloadedWhileRunning(): SkiffError {
  return new SkiffError('SKIFF_SHUTTING_DOWN', 'the model was unloaded while this request ran');
}
