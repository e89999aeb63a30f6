import type { LatencyStats } from './latency-stats.js';

/** The inference engine alone on the same model and threads, for the end-to-end / engine ratio. */
export interface EngineFigure {
  readonly threads: number;
  readonly runs: number;
  /** Batch-1 inferences per second. */
  readonly perSecond: number;
  readonly latency: LatencyStats;
  /** CPU time of all the engine's threads per inference, ms (what one image costs, not how long it takes). */
  readonly cpuMsPerRun?: number;
}
