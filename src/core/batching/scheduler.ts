import type { EncodedImage, LoadedModel } from '../model/runtime.js';
import { runMsOf } from '../model/runtime.js';
import type { ImageInputContract } from '../model/model-config.js';
import type { Tensor } from '../tensor/tensor.js';
import type { TensorData } from '../tensor/data-type.js';
import type { InferenceObserver } from '../inference-observer.js';
import { SkiffError } from '../errors.js';
import type { RequestContext } from '../request/request-context.js';
import { endReason } from '../request/request-context.js';

export interface SchedulerOptions {
  /** Requests allowed to wait for a free model instance; the next one is refused at once (queue full). */
  readonly maxQueueSize: number;
  /** Requests handed to the model at once; more would only queue inside the runtime. */
  readonly concurrency: number;
  /**
   * Requests admitted beside the queue (default: `concurrency`): the model's instances. A runtime that takes
   * more at once than it has instances (LoadedModel.concurrency) holds the extra ones waiting, and they count
   * against maxQueueSize as if they waited here.
   */
  readonly instances?: number;
  /** Longest a request may wait in the queue before it is refused with SKIFF_TIMEOUT; 0 = no limit. */
  readonly queueTimeoutMs?: number;
  /** Told about every admitted request once it ends (metrics). */
  readonly observer?: InferenceObserver;
  readonly model?: string;
  readonly version?: string;
}

export interface BatchingOptions {
  /** Largest batch (sum of the requests' first dimensions) one execution may run. */
  readonly maxBatchSize: number;
  /** How long the oldest request may wait for others to join its batch. */
  readonly maxQueueDelayMs: number;
  /** Batch sizes worth running at once without waiting (largest first is tried). */
  readonly preferredBatchSizes: readonly number[];
}

/** How one request is submitted; all optional. */
export interface SubmitOptions {
  /** The request's deadline and cancellation: aborted while queued, it leaves the queue and never runs. */
  readonly context?: RequestContext | undefined;
  /** A place taken earlier with `reserve()`, before the request's inputs were prepared. */
  readonly reservation?: Reservation | undefined;
  /** The load-time inference: not counted, not timed, not refused for a full queue. */
  readonly warmUp?: boolean | undefined;
  /**
   * Called once the request's work is over, whenever the caller was answered: it left the queue without
   * running, or the model call it was part of returned. What the request holds until then (its share of the
   * decoding budget, for an image decoded by the model) is given back here.
   */
  readonly onSettled?: (() => void) | undefined;
}

/**
 * A place in the scheduler held for a request that is still preparing its inputs (decoding an image), so
 * that the work is only done for requests the model will take. Pass it to `submit`, or `release` it.
 */
export interface Reservation {
  release(): void;
}

/** What a request asks the model to run: tensors, or an image the model decodes itself (LoadedModel.inferImage). */
type Work =
  | { readonly kind: 'tensors'; readonly inputs: Readonly<Record<string, Tensor>> }
  | { readonly kind: 'image'; readonly image: EncodedImage; readonly input: ImageInputContract };

interface Pending {
  readonly work: Work;
  readonly outputNames: readonly string[] | undefined;
  readonly rows: number;
  readonly key: string;
  readonly enqueued: number;
  readonly resolve: (outputs: Record<string, Tensor>) => void;
  readonly reject: (error: unknown) => void;
  readonly warmUp: boolean;
  /** The observer's handle on the submitting request (see InferenceObserver.requestContext). */
  readonly context: unknown;
  readonly signal: AbortSignal | undefined;
  /** Settled already (answered, or ended early by its context): later outcomes are dropped. */
  done: boolean;
  onAbort?: () => void;
  /** Refuses the request if it is still queued after the model's queueTimeoutMs. */
  queueTimer?: ReturnType<typeof setTimeout>;
  /** SubmitOptions.onSettled, cleared once called. */
  onSettled: (() => void) | undefined;
}

/**
 * Admission and scheduling in front of one model: a bounded FIFO queue (the next request past
 * maxQueueSize is refused at once), at most `concurrency` executions at a time, a queue timeout, and each
 * request's own deadline and cancellation: a request whose client left or whose deadline passed leaves the
 * queue and never runs; if it was running, its caller is answered at once and the result is dropped.
 * Excess load is refused fast instead of piling up in memory.
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
  private readonly queue: Pending[] = [];
  private closed = false;
  private wakeUp: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly model: LoadedModel,
    private readonly options: SchedulerOptions,
    private readonly batching?: BatchingOptions,
  ) {}

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
    this.checkOpen();
    if (this.full) throw this.queueFull();
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
    const refuse = (error: unknown): Promise<never> => {
      options.onSettled?.();
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    };
    try {
      this.checkOpen();
      if (signal?.aborted === true) throw endReason(signal);
    } catch (error) {
      return refuse(error);
    }
    if (this.batching !== undefined && rows > this.batching.maxBatchSize) {
      return refuse(
        new SkiffError(
          'SKIFF_BAD_TENSOR',
          `a batch of ${rows} is larger than this model's maxBatchSize ${this.batching.maxBatchSize}`,
        ),
      );
    }
    if (!warmUp && !reserved && this.full) return refuse(this.queueFull());
    return new Promise((resolve, reject) => {
      const pending: Pending = {
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
      if (signal !== undefined) {
        pending.onAbort = () => {
          if (this.leave(pending)) workOver(pending);
          this.settle(pending, () => {
            reject(endReason(signal));
          });
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      const queueTimeoutMs = warmUp ? 0 : (this.options.queueTimeoutMs ?? 0);
      if (queueTimeoutMs > 0) {
        pending.queueTimer = setTimeout(() => {
          if (!this.leave(pending)) return;
          workOver(pending);
          this.settle(pending, () => {
            reject(queueTimeout(queueTimeoutMs));
          });
        }, queueTimeoutMs);
      }
      this.queue.push(pending);
      this.dispatch();
    });
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
      this.settle(pending, () => {
        pending.reject(
          new SkiffError('SKIFF_SHUTTING_DOWN', 'the model was unloaded before this request ran'),
        );
      });
    }
  }

  private checkOpen(): void {
    if (this.closed)
      throw new SkiffError('SKIFF_SHUTTING_DOWN', 'the model is unloading; retry on another replica');
  }

  private queueFull(): SkiffError {
    return new SkiffError(
      'SKIFF_QUEUE_FULL',
      `the model's queue is full (${this.options.maxQueueSize} requests waiting); retry later`,
    );
  }

  /** Takes a request out of the queue; false when it had already left it. */
  private leave(pending: Pending): boolean {
    const at = this.queue.indexOf(pending);
    if (at === -1) return false;
    this.queue.splice(at, 1);
    return true;
  }

  /** Answers a request once: timers and the abort listener go, later outcomes are ignored. */
  private settle(pending: Pending, answer: () => void): void {
    if (pending.done) return;
    pending.done = true;
    clearTimeout(pending.queueTimer);
    if (pending.onAbort !== undefined) pending.signal?.removeEventListener('abort', pending.onAbort);
    answer();
  }

  /** Starts every batch that is due while a model instance is free; arms a timer for the next one. */
  private dispatch(flush = false): void {
    clearTimeout(this.wakeUp);
    this.wakeUp = undefined;
    while (this.running < this.options.concurrency && this.queue.length > 0) {
      const batch = this.nextBatch(flush);
      if (batch === undefined) break;
      void this.execute(batch);
    }
    const head = this.queue[0];
    if (head !== undefined && this.running < this.options.concurrency && this.batching !== undefined) {
      const wait = Math.max(0, this.batching.maxQueueDelayMs - (performance.now() - head.enqueued));
      this.wakeUp = setTimeout(() => this.dispatch(), wait);
    }
  }

  private nextBatch(flush: boolean): Pending[] | undefined {
    const head = this.queue[0];
    if (head === undefined) return undefined;
    if (this.batching === undefined) {
      this.queue.shift();
      clearTimeout(head.queueTimer);
      return [head];
    }
    const members: Pending[] = [];
    let rows = 0;
    for (const pending of this.queue) {
      if (pending.key !== head.key || rows + pending.rows > this.batching.maxBatchSize) continue;
      members.push(pending);
      rows += pending.rows;
    }
    const full = rows >= this.batching.maxBatchSize || this.batching.preferredBatchSizes.includes(rows);
    const due = performance.now() - head.enqueued >= this.batching.maxQueueDelayMs;
    if (!full && !due && !flush) return undefined;
    for (const member of members) {
      this.queue.splice(this.queue.indexOf(member), 1);
      clearTimeout(member.queueTimer);
    }
    return members;
  }

  private async execute(batch: Pending[]): Promise<void> {
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
        this.report(pending, index === 0, rows, started, 'success', runMsOf(outputs));
        this.settle(pending, () => {
          pending.resolve(own);
        });
      }
    } catch (error) {
      // A request that ran alone gets the runtime's own error (the adapters log its cause); callers sharing
      // a batch get one error that names the batch and keeps the original as its cause.
      const failure =
        error instanceof SkiffError || batch.length === 1
          ? error
          : new SkiffError('SKIFF_INFERENCE_FAILED', 'the batched inference failed', { cause: error });
      for (const [index, pending] of batch.entries()) {
        this.report(pending, index === 0, rows, started, 'failure');
        this.settle(pending, () => {
          pending.reject(failure);
        });
      }
    } finally {
      for (const pending of batch) workOver(pending);
      this.running--;
      this.dispatch(this.closed);
    }
  }

  private run(batch: readonly Pending[], head: Pending): Promise<Record<string, Tensor>> {
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
    return this.model.infer(inputs, head.outputNames);
  }

  private report(
    pending: Pending,
    firstOfBatch: boolean,
    rows: number,
    started: number,
    outcome: 'success' | 'failure',
    runMs?: number,
  ): void {
    if (pending.warmUp) return;
    const observer: InferenceObserver | undefined = this.options.observer;
    // What the runtime measured of the inference itself; the rest of the wait since dispatch was queueing.
    const elapsedMs = performance.now() - started;
    const computeMs = Math.min(elapsedMs, runMs ?? elapsedMs);
    observer?.inferenceDone({
      model: this.options.model ?? '',
      version: this.options.version ?? '',
      outcome,
      queueSeconds: (started - pending.enqueued + elapsedMs - computeMs) / 1000,
      computeSeconds: computeMs / 1000,
      batchSize: pending.rows,
      executionBatchSize: rows,
      execution: firstOfBatch ? { batchSize: rows } : undefined,
      context: pending.context,
    });
  }
}

/** Calls a request's onSettled once: its queue place and whatever it held are free again. */
function workOver(pending: Pending): void {
  const onSettled = pending.onSettled;
  pending.onSettled = undefined;
  onSettled?.();
}

/** Requests can share a batch only with the same inputs (name, type, non-batch dims) and the same outputs. */
function batchKey(
  inputs: Readonly<Record<string, Tensor>>,
  outputNames: readonly string[] | undefined,
): string {
  const parts = Object.entries(inputs)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, t]) => `${name}:${t.type}:${t.shape.slice(1).join('x')}`);
  return `${parts.join('|')}>${outputNames === undefined ? '*' : [...outputNames].sort().join(',')}`;
}

function concatInputs(list: readonly Readonly<Record<string, Tensor>>[]): Record<string, Tensor> {
  const [first] = list;
  if (first === undefined) return {};
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(first)) {
    const parts = list.map((inputs) => inputs[name]).filter((t): t is Tensor => t !== undefined);
    const [head] = parts;
    if (head === undefined) continue;
    const rows = parts.reduce((sum, t) => sum + (t.shape[0] ?? 0), 0);
    out[name] = {
      type: head.type,
      shape: [rows, ...head.shape.slice(1)],
      data: concatData(parts.map((t) => t.data)),
    };
  }
  return out;
}

function concatData(parts: readonly TensorData[]): TensorData {
  const [head] = parts;
  if (head === undefined) return new Float32Array(0);
  if (Array.isArray(head)) return parts.flatMap((p) => p as Uint8Array[]);
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const Constructor = head.constructor as new (length: number) => Exclude<TensorData, Uint8Array[]>;
  const out = new Constructor(total);
  let at = 0;
  for (const part of parts) {
    (out as unknown as { set(source: ArrayLike<unknown>, offset: number): void }).set(part, at);
    at += part.length;
  }
  return out;
}

/** Rows [offset, offset + rows) of every output whose first dimension is the whole batch. */
function sliceOutputs(
  outputs: Record<string, Tensor>,
  offset: number,
  rows: number,
  total: number,
): Record<string, Tensor> {
  const own: Record<string, Tensor> = {};
  for (const [name, tensor] of Object.entries(outputs)) {
    if (tensor.shape[0] !== total) {
      throw new SkiffError(
        'SKIFF_INFERENCE_FAILED',
        `output "${name}" has shape [${tensor.shape.join(',')}], not one row per batched input; this model cannot be batched`,
      );
    }
    const perRow = total === 0 ? 0 : tensor.data.length / total;
    own[name] = {
      type: tensor.type,
      shape: [rows, ...tensor.shape.slice(1)],
      data: tensor.data.slice(offset * perRow, (offset + rows) * perRow),
    };
  }
  return own;
}

/** The answer to a request that waited its whole allowance in a queue without starting. */
export function queueTimeout(waitedMs: number): SkiffError {
  return new SkiffError(
    'SKIFF_TIMEOUT',
    `the request waited ${waitedMs} ms for the model without starting; the server is overloaded, retry later`,
  );
}
