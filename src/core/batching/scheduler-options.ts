import type { InferenceObserver } from '../inference-observer.js';
import type { RequestContext } from '../request/request-context.js';

export interface SchedulerOptions {
  /** Requests allowed to wait for a free model instance; the next one is refused at once (queue full). */
  readonly maxQueueSize: number;
  /**
   * Requests handed to the model at once, at most. A model that says how many it takes right now
   * (LoadedModel.available) is never handed more than that: whatever it cannot start at once waits here.
   */
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
