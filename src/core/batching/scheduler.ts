import type { LoadedModel } from '../model/runtime.js';
import type { Tensor } from '../tensor/tensor.js';
import type { InferenceObserver } from '../inference-observer.js';
import { SkiffError } from '../errors.js';

export interface SchedulerOptions {
  /** Requests allowed to wait for a free model instance; the next one is refused at once (queue full). */
  readonly maxQueueSize: number;
  /** Requests handed to the model at once; more would only queue inside the runtime. */
  readonly concurrency: number;
  /** Longest a request may take, queue included, before it is answered with a timeout; 0 = no limit. */
  readonly timeoutMs?: number;
  /** Longest a request may wait in the queue before it is refused with SKIFF_TIMEOUT; 0 = no limit. */
  readonly queueTimeoutMs?: number;
  /** Told about every admitted request once it ends (metrics). */
  readonly observer?: InferenceObserver;
  readonly model?: string;
  readonly version?: string;
}

interface Waiting {
  start: () => void;
  readonly reject: (error: SkiffError) => void;
}

/**
 * Admission in front of one model: bounded FIFO queue, fixed concurrency. Excess load is refused fast
 * instead of piling up in memory. (Dynamic batching will merge queued requests here.)
 */
export class Scheduler {
  private running = 0;
  private readonly queue: Waiting[] = [];
  private closed = false;

  constructor(
    private readonly model: LoadedModel,
    private readonly options: SchedulerOptions,
  ) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** A request submitted now would be refused with SKIFF_QUEUE_FULL. */
  get full(): boolean {
    return this.running >= this.options.concurrency && this.queue.length >= this.options.maxQueueSize;
  }

  /** A warm-up call has no timeout and is not reported to the observer. */
  async submit(
    inputs: Readonly<Record<string, Tensor>>,
    outputNames?: readonly string[],
    warmUp = false,
  ): Promise<Record<string, Tensor>> {
    if (this.closed)
      throw new SkiffError('SKIFF_SHUTTING_DOWN', 'the model is unloading; retry on another replica');
    const admitted = performance.now();
    const context = warmUp ? undefined : this.options.observer?.requestContext?.();
    const timeoutMs = warmUp ? 0 : (this.options.timeoutMs ?? 0);
    if (this.running >= this.options.concurrency) {
      if (this.full) {
        throw new SkiffError(
          'SKIFF_QUEUE_FULL',
          `the model's queue is full (${this.options.maxQueueSize} requests waiting); retry later`,
        );
      }
      // A finishing request hands its slot straight to the next in line (running stays counted), so a
      // request arriving in between cannot overtake the queue.
      const queueTimeoutMs = warmUp ? 0 : (this.options.queueTimeoutMs ?? 0);
      // The request's own limit or the model's queue limit, whichever comes first.
      const limits = [timeoutMs, queueTimeoutMs].filter((ms) => ms > 0);
      const waitMs = limits.length === 0 ? 0 : Math.min(...limits);
      await new Promise<void>((start, reject) => {
        const waiting: Waiting = { start, reject };
        this.queue.push(waiting);
        if (waitMs > 0) {
          const timer = setTimeout(() => {
            const at = this.queue.indexOf(waiting);
            if (at === -1) return;
            this.queue.splice(at, 1);
            reject(queueTimeout(waitMs));
          }, waitMs);
          // Starting clears the timer: the running phase has its own, for the time left.
          waiting.start = () => {
            clearTimeout(timer);
            start();
          };
        }
      });
    } else {
      this.running++;
    }
    const started = performance.now();
    const work = this.model.infer(inputs, outputNames).finally(() => {
      const next = this.queue.shift();
      if (next === undefined) this.running--;
      else next.start();
    });
    if (!warmUp) {
      void work.then(
        () => this.report('success', admitted, started, inputs, context),
        () => this.report('failure', admitted, started, inputs, context),
      );
    }
    const left = timeoutMs > 0 ? timeoutMs - (performance.now() - admitted) : 0;
    if (timeoutMs <= 0) return work;
    // The inference itself cannot be interrupted: its slot stays taken until it ends, but the caller is
    // answered on time.
    work.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          reject(new SkiffError('SKIFF_TIMEOUT', `the inference did not finish within ${timeoutMs} ms`));
        },
        Math.max(0, left),
      );
    });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private report(
    outcome: 'success' | 'failure',
    admitted: number,
    started: number,
    inputs: Readonly<Record<string, Tensor>>,
    context: unknown,
  ): void {
    const first = Object.values(inputs)[0];
    this.options.observer?.inferenceDone({
      model: this.options.model ?? '',
      version: this.options.version ?? '',
      outcome,
      queueSeconds: (started - admitted) / 1000,
      computeSeconds: (performance.now() - started) / 1000,
      batchSize: first?.shape[0] ?? 1,
      executionBatchSize: first?.shape[0] ?? 1,
      execution: { batchSize: first?.shape[0] ?? 1 },
      context,
    });
  }

  /**
   * Refuses new work and resolves once everything already accepted (running and queued) has finished, or
   * after `timeoutMs`, when what is still queued is failed so the model can be released.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + timeoutMs;
    while ((this.running > 0 || this.queue.length > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.close();
  }

  /** Refuses new work and fails what is still queued; requests already running finish. */
  close(): void {
    this.closed = true;
    for (const waiting of this.queue.splice(0)) {
      waiting.reject(new SkiffError('SKIFF_SHUTTING_DOWN', 'the model was unloaded before this request ran'));
    }
  }
}

/** The answer to a request that waited its whole allowance in a queue without starting. */
export function queueTimeout(waitedMs: number): SkiffError {
  return new SkiffError(
    'SKIFF_TIMEOUT',
    `the request waited ${waitedMs} ms for the model without starting; the server is overloaded, retry later`,
  );
}
