import { setTimeout as sleep } from 'node:timers/promises';
import type { LiveCounts, Send, StepLength, StepResult } from './step-tally.js';
import { StepTally } from './step-tally.js';

/** An arrival sent later than this after its scheduled time counts as late. */
export const LATE_MS = 10;

export interface OpenLoopOptions {
  readonly send: Send;
  readonly ratePerSecond: number;
  /** Arrivals finding this many requests unanswered are dropped (counted, never sent). */
  readonly maxInFlight: number;
  readonly length: StepLength;
  readonly onProgress?: (live: LiveCounts) => void;
}

/**
 * Open loop at a fixed arrival rate, as real independent callers arrive: arrival i is due at start + i/rate
 * whatever the server is doing. Latency runs from the scheduled time, not the send time, so a generator or
 * server that falls behind shows up in the figures instead of hiding (no coordinated omission).
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<StepResult> {
  const tally = new StepTally();
  const intervalMs = 1000 / options.ratePerSecond;
  const total =
    'requests' in options.length
      ? options.length.requests
      : Math.max(1, Math.floor(options.length.durationMs / intervalMs));
  const inFlight = new Set<Promise<void>>();
  let dropped = 0;
  let late = 0;
  for (let i = 0; i < total; i++) {
    const due = tally.startedAt + i * intervalMs;
    const wait = due - performance.now();
    // Behind schedule, still yield once per arrival: answers must be read while the backlog is sent.
    await (wait > 1 ? sleep(wait) : new Promise<void>((resolve) => setImmediate(resolve)));
    if (performance.now() - due > LATE_MS) late++;
    if (inFlight.size >= options.maxInFlight) {
      dropped++;
      continue;
    }
    const request = options.send().then((outcome) => {
      tally.record(outcome, performance.now() - due);
      inFlight.delete(request);
      options.onProgress?.(tally);
    });
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  return tally.result(`rate=${options.ratePerSecond}/s`, {
    targetRatePerSecond: options.ratePerSecond,
    dropped,
    late,
  });
}
