import type { SchedulerOptions } from './scheduler-options.js';
import type { PendingRequest } from './pending-request.js';

/**
 * Tells the observer how one request of an execution ended: its queue and compute time, its rows and the
 * execution's (`firstOfBatch` also reports the execution itself). Warm-up requests are not reported.
 */
export function reportInference(
  options: SchedulerOptions,
  pending: PendingRequest,
  firstOfBatch: boolean,
  rows: number,
  started: number,
  outcome: 'success' | 'failure',
  runMs?: number,
): void {
  if (pending.warmUp) return;
  // What the runtime measured of the inference itself; the rest of the wait since dispatch was queueing.
  const elapsedMs = performance.now() - started;
  const computeMs = Math.min(elapsedMs, runMs ?? elapsedMs);
  options.observer?.inferenceDone({
    model: options.model ?? '',
    version: options.version ?? '',
    outcome,
    queueSeconds: (started - pending.enqueued + elapsedMs - computeMs) / 1000,
    computeSeconds: computeMs / 1000,
    batchSize: pending.rows,
    executionBatchSize: rows,
    execution: firstOfBatch ? { batchSize: rows } : undefined,
    context: pending.context,
  });
}
