import type { LiveCounts, Send, StepLength, StepResult } from './step-tally.js';
import { StepTally } from './step-tally.js';

export interface ClosedLoopOptions {
  readonly send: Send;
  readonly concurrency: number;
  readonly length: StepLength;
  readonly onProgress?: (live: LiveCounts) => void;
}

/**
 * Closed loop, as perf_analyzer's concurrency mode: `concurrency` callers each send the next request as soon
 * as their last one is answered, so the server never sees more than that many at once.
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<StepResult> {
  const tally = new StepTally();
  const deadline = 'durationMs' in options.length ? tally.startedAt + options.length.durationMs : Infinity;
  const limit = 'requests' in options.length ? options.length.requests : Infinity;
  let sent = 0;
  const caller = async (): Promise<void> => {
    while (sent < limit && performance.now() < deadline) {
      sent++;
      const t0 = performance.now();
      const outcome = await options.send();
      tally.record(outcome, performance.now() - t0);
      options.onProgress?.(tally);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, caller));
  return tally.result(`c=${options.concurrency}`, { concurrency: options.concurrency });
}
