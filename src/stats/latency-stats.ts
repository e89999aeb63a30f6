/** What one load step measured; latencies in milliseconds, rates per second of wall time. */
export interface LatencyStats {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/**
 * The q-quantile (0..1) of ascending `sorted` by the nearest-rank method: the smallest value with at least
 * q of the samples at or below it. Nearest rank never invents a latency no request had, unlike
 * interpolation. NaN when there are no samples.
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? NaN;
}

export function latencyStats(latenciesMs: readonly number[]): LatencyStats {
  const sorted = Float64Array.from(latenciesMs).sort();
  const values = Array.from(sorted);
  const sum = values.reduce((total, v) => total + v, 0);
  return {
    count: values.length,
    p50Ms: percentile(values, 0.5),
    p90Ms: percentile(values, 0.9),
    p99Ms: percentile(values, 0.99),
    maxMs: values.length === 0 ? NaN : (values[values.length - 1] ?? NaN),
    meanMs: values.length === 0 ? NaN : sum / values.length,
  };
}

/** Events per second; 0 for an empty or zero-length interval rather than Infinity or NaN. */
export function ratePerSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
}

/** The median of rounds (mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}
