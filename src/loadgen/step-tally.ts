import type { LatencyStats } from '../stats/latency-stats.js';
import { latencyStats, ratePerSecond } from '../stats/latency-stats.js';

/** How one request ended: `ok` when the server answered as expected, else why not. */
export interface Outcome {
  readonly ok: boolean;
  /**
   * HTTP status; over gRPC the status name (`OK`, `UNAVAILABLE`, ...); 0 when no answer came (connection
   * refused, reset, timed out).
   */
  readonly status: number | string;
  /** For failures: the server's message or the network error, kept once per status for the report. */
  readonly message?: string;
}

/** Sends one request and tells how it ended; must not throw (network errors are outcomes too). */
export type Send = () => Promise<Outcome>;

export interface StepResult {
  /** `c=4` for a closed loop, `rate=20/s` for an open one. */
  readonly label: string;
  readonly concurrency?: number;
  readonly targetRatePerSecond?: number;
  readonly ok: number;
  readonly errors: number;
  /** Failures by HTTP status or gRPC status name ("0" for no answer), each with the first message seen. */
  readonly errorsByStatus: Readonly<Record<string, { readonly count: number; readonly message: string }>>;
  readonly elapsedMs: number;
  /** Successful requests per second of wall time. */
  readonly perSecond: number;
  /** Latency of the successful requests. */
  readonly latency: LatencyStats;
  /** Open loop only: arrivals not sent because maxInFlight requests were already waiting. */
  readonly dropped?: number;
  /** Open loop only: arrivals sent more than LATE_MS after their scheduled time (the generator fell behind). */
  readonly late?: number;
}

/** Live counts, read by a progress line while a step runs. */
export interface LiveCounts {
  readonly ok: number;
  readonly errors: number;
  readonly startedAt: number;
}

/** Collects outcomes for one step. */
export class StepTally implements LiveCounts {
  ok = 0;
  errors = 0;
  readonly startedAt = performance.now();
  private readonly latencies: number[] = [];
  private readonly byStatus: Record<string, { count: number; message: string }> = {};

  record(outcome: Outcome, latencyMs: number): void {
    if (outcome.ok) {
      this.ok++;
      this.latencies.push(latencyMs);
      return;
    }
    this.errors++;
    const key = String(outcome.status);
    const entry = (this.byStatus[key] ??= { count: 0, message: outcome.message ?? '' });
    entry.count++;
  }

  result(label: string, extra: Partial<StepResult> = {}): StepResult {
    const elapsedMs = performance.now() - this.startedAt;
    return {
      label,
      ...extra,
      ok: this.ok,
      errors: this.errors,
      errorsByStatus: this.byStatus,
      elapsedMs,
      perSecond: ratePerSecond(this.ok, elapsedMs),
      latency: latencyStats(this.latencies),
    };
  }
}

/** When a step ends: after a duration, or once a number of requests have been sent. */
export type StepLength = { readonly durationMs: number } | { readonly requests: number };
