import type { EncodedImage, LoadedModel } from '../model/runtime.js';
import { runMsOf } from '../model/runtime.js';
import type { ImageInputContract } from '../model/model-config.js';
import type { Tensor } from '../tensor/tensor.js';
import { SkiffError } from '../errors.js';
import { endReason } from '../request/request-context.js';
import type { BatchingOptions, Reservation, SchedulerOptions, SubmitOptions } from './scheduler-options.js';
import type { PendingRequest, Work } from './pending-request.js';
import { settle, workOver } from './pending-request.js';
import { queueFull, queueTimeout, unloadedBeforeRun, unloading } from './scheduler-errors.js';
import { takeBatch } from './take-batch.js';
import { batchKey } from './batch-key.js';
import { concatInputs } from './concat-inputs.js';
import { sliceOutputs } from './slice-outputs.js';
import { reportInference } from './report-inference.js';

export type { BatchingOptions, Reservation, SchedulerOptions, SubmitOptions } from './scheduler-options.js';

/**
 * Admission and scheduling in front of one model, and the one place its requests wait: a bounded FIFO queue
 * (the next request past maxQueueSize is refused at once), at most `concurrency` executions at a time and
 * never more than the model takes right now (LoadedModel.available), a queue timeout, and each request's own
 * deadline and cancellation: a request whose client left or whose deadline passed leaves the queue and never
 * runs; if it was running, its caller is answered at once and the result is dropped. Excess load is refused
 * fast instead of piling up in memory.
 *
 * With `batching`, Triton-style dynamic batching: whenever a model instance is free the queue's head is
 * merged with the requests behind it that have the same inputs (names, types and non-batch dimensions) and
 * outputs, up to maxBatchSize rows; a batch runs at once when it reaches a preferred size or maxBatchSize,
 * else when its oldest request has waited maxQueueDelayMs. Outputs are split back by rows, so every caller
 * gets exactly its own result. Without it every request runs alone, whatever its batch dimension.
 */
export class Scheduler {
  private running = 0;
  private reserved = 0;
  private readonly queue: PendingRequest[] = [];
  private closed = false;
  private wakeUp: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly model: LoadedModel,
    private readonly options: SchedulerOptions,
    private readonly batching?: BatchingOptions,
  ) {
    // Places the model frees by itself (a replaced instance ready again) go to the queue's head at once.
    model.onAvailable?.(() => this.dispatch(this.closed));
  }

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** A request submitted now would be refused with SKIFF_QUEUE_FULL. */
  get full(): boolean {
    const admitted = (this.options.instances ?? this.options.concurrency) + this.options.maxQueueSize;
    return this.running + this.queue.length + this.reserved >= admitted;
  }

  /**
   * Takes a place for a request before its inputs are prepared, so a full model refuses it before any
   * decoding is paid for. Throws SKIFF_QUEUE_FULL or SKIFF_SHUTTING_DOWN.
   */
  reserve(): Reservation {
    if (this.closed) throw unloading();
    if (this.full) throw queueFull(this.options.maxQueueSize);
    this.reserved++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.reserved--;
      },
    };
  }

  submit(
    inputs: Readonly<Record<string, Tensor>>,
    outputNames?: readonly string[],
    options: SubmitOptions = {},
  ): Promise<Record<string, Tensor>> {
    const first = Object.values(inputs)[0];
    return this.enqueue({ kind: 'tensors', inputs }, first?.shape[0] ?? 1, outputNames, options);
  }

  /**
   * An image for a model that decodes its own (LoadedModel.inferImage): queued like any request, decoded and
   * run by the model when its turn comes. Only for a model without dynamic batching (`batches` false).
   */
  submitImage(
    image: EncodedImage,
    input: ImageInputContract,
    outputNames: readonly string[] | undefined,
    options: SubmitOptions = {},
  ): Promise<Record<string, Tensor>> {
    if (this.batching !== undefined || this.model.inferImage === undefined) {
      options.reservation?.release();
      options.onSettled?.();
      return Promise.reject(
        new SkiffError('SKIFF_INTERNAL', 'this model takes tensors; images are decoded before they queue'),
      );
    }
    return this.enqueue({ kind: 'image', image, input }, 1, outputNames, options);
  }

  /** Whether requests may be merged into batches: a model that decodes its own images must not be. */
  get batches(): boolean {
    return this.batching !== undefined;
  }

  async drain(timeoutMs: number): Promise<void> {
    this.closed = true;
    this.dispatch(true);
    const deadline = Date.now() + timeoutMs;
    while ((this.running > 0 || this.queue.length > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      this.dispatch(true);
    }
    this.close();
  }

  close(): void {
    this.closed = true;
    for (const pending of this.queue.splice(0)) {
      workOver(pending);
      settle(pending, () => pending.reject(unloadedBeforeRun()));
    }
  }

  private enqueue(
    work: Work,
    rows: number,
    outputNames: readonly string[] | undefined,
    options: SubmitOptions,
  ): Promise<Record<string, Tensor>> {
    const warmUp = options.warmUp === true;
    const signal = warmUp ? undefined : options.context?.signal;
    // The reservation's place becomes the queue entry's, whatever happens next.
    const reserved = options.reservation !== undefined;
    options.reservation?.release();
    const refusal = this.refusal(rows, signal, warmUp || reserved);
    if (refusal !== undefined) {
      options.onSettled?.();
      return Promise.reject(refusal);
    }
    return new Promise((resolve, reject) => {
      const pending: PendingRequest = {
        work,
        outputNames,
        rows,
        // Only batching compares keys; without it the request path need not build one.
        key: this.batching === undefined || work.kind === 'image' ? '' : batchKey(work.inputs, outputNames),
        enqueued: performance.now(),
        resolve,
        reject,
        warmUp,
        context: warmUp ? undefined : this.options.observer?.requestContext?.(),
        signal,
        done: false,
        onSettled: options.onSettled,
      };
      this.watch(pending, warmUp ? 0 : (this.options.queueTimeoutMs ?? 0));
      this.queue.push(pending);
      this.dispatch();
    });
  }

  /** Why a request must be refused before it queues, if it must; `placeHeld`: it may go past a full queue. */
  private refusal(rows: number, signal: AbortSignal | undefined, placeHeld: boolean): SkiffError | undefined {
    if (this.closed) return unloading();
    if (signal?.aborted === true) return endReason(signal);
    const maxBatchSize = this.batching?.maxBatchSize;
    if (maxBatchSize !== undefined && rows > maxBatchSize) {
      return new SkiffError(
        'SKIFF_BAD_TENSOR',
        `a batch of ${rows} is larger than this model's maxBatchSize ${maxBatchSize}`,
      );
    }
    if (!placeHeld && this.full) return queueFull(this.options.maxQueueSize);
    return undefined;
  }

  /** Arms what ends a request early: its context's end (queued or running), and the queue timeout. */
  private watch(pending: PendingRequest, queueTimeoutMs: number): void {
    const signal = pending.signal;
    if (signal !== undefined) {
      pending.onAbort = () => {
        if (this.leave(pending)) workOver(pending);
        settle(pending, () => pending.reject(endReason(signal)));
      };
      signal.addEventListener('abort', pending.onAbort, { once: true });
    }
    if (queueTimeoutMs > 0) {
      pending.queueTimer = setTimeout(() => {
        if (!this.leave(pending)) return;
        workOver(pending);
        settle(pending, () => pending.reject(queueTimeout(queueTimeoutMs)));
      }, queueTimeoutMs);
    }
  }

  /** Takes a request out of the queue; false when it had already left it. */
  private leave(pending: PendingRequest): boolean {
    const at = this.queue.indexOf(pending);
    if (at === -1) return false;
    this.queue.splice(at, 1);
    return true;
  }

  /** The model takes one more execution now: under `concurrency`, and under what it says it takes now. */
  private get canHandOver(): boolean {
    return this.running < this.options.concurrency && (this.model.available ?? 1) > 0;
  }

  /** Starts every batch that is due while the model takes more; arms a timer for the next one. */
  private dispatch(flush = false): void {
    clearTimeout(this.wakeUp);
    this.wakeUp = undefined;
    while (this.queue.length > 0 && this.canHandOver) {
      const batch = takeBatch(this.queue, this.batching, flush);
      if (batch === undefined) break;
      void this.execute(batch);
    }
    const head = this.queue[0];
    // Only while the model could take the batch: once it is full, what frees a place dispatches again.
    if (head !== undefined && this.batching !== undefined && this.canHandOver) {
      const wait = Math.max(0, this.batching.maxQueueDelayMs - (performance.now() - head.enqueued));
      this.wakeUp = setTimeout(() => this.dispatch(), wait);
    }
  }

  private async execute(batch: readonly PendingRequest[]): Promise<void> {
    this.running++;
    const started = performance.now();
    const rows = batch.reduce((sum, p) => sum + p.rows, 0);
    try {
      const [head] = batch;
      if (head === undefined) return;
      const outputs = await this.run(batch, head);
      let offset = 0;
      for (const [index, pending] of batch.entries()) {
        const own = batch.length === 1 ? outputs : sliceOutputs(outputs, offset, pending.rows, rows);
        offset += pending.rows;
        reportInference(this.options, pending, index === 0, rows, started, 'success', runMsOf(outputs));
        settle(pending, () => pending.resolve(own));
      }
    } catch (error) {
      // A request that ran alone gets the runtime's own error (the adapters log its cause); callers sharing
      // a batch get one error that names the batch and keeps the original as its cause.
      const failure =
        error instanceof SkiffError || batch.length === 1
          ? error
          : new SkiffError('SKIFF_INFERENCE_FAILED', 'the batched inference failed', { cause: error });
      for (const [index, pending] of batch.entries()) {
        reportInference(this.options, pending, index === 0, rows, started, 'failure');
        settle(pending, () => pending.reject(failure));
      }
    } finally {
      for (const pending of batch) workOver(pending);
      this.running--;
      this.dispatch(this.closed);
    }
  }

  private run(batch: readonly PendingRequest[], head: PendingRequest): Promise<Record<string, Tensor>> {
    const work = head.work;
    if (work.kind === 'image') {
      if (this.model.inferImage === undefined)
        return Promise.reject(new SkiffError('SKIFF_INTERNAL', 'this model does not decode images'));
      return this.model.inferImage(work.image, work.input, head.outputNames, head.signal);
    }
    const inputs =
      batch.length === 1
        ? work.inputs
        : concatInputs(batch.map((p) => (p.work.kind === 'tensors' ? p.work.inputs : {})));
    // A batch of several runs for every caller in it: no one caller's leaving may drop it.
    return this.model.infer(inputs, head.outputNames, batch.length === 1 ? head.signal : undefined);
  }
}
