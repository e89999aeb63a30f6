/**
 * A Prometheus histogram reduced to what the charts need, JSON-safe (no Infinity): the finite upper bounds,
 * the cumulative count at each, and the total count (the +Inf bucket) and sum.
 */
export interface Histogram {
  readonly bounds: readonly number[];
  readonly cumulative: readonly number[];
  readonly count: number;
  readonly sum: number;
}

export const EMPTY_HISTOGRAM: Histogram = { bounds: [], cumulative: [], count: 0, sum: 0 };

/**
 * `later - earlier` bucket by bucket: the observations made between two scrapes. A counter reset (the
 * process restarted, so counts went down) means `later` alone is the best estimate.
 */
export function histogramDelta(later: Histogram, earlier: Histogram): Histogram {
  const sameBounds =
    later.bounds.length === earlier.bounds.length && later.bounds.every((b, i) => b === earlier.bounds[i]);
  if (!sameBounds || later.count < earlier.count) return later;
  return {
    bounds: later.bounds,
    cumulative: later.cumulative.map((c, i) => c - (earlier.cumulative[i] ?? 0)),
    count: later.count - earlier.count,
    sum: later.sum - earlier.sum,
  };
}

/**
 * The q-quantile (0..1) as Prometheus' histogram_quantile computes it: find the bucket holding the rank,
 * interpolate linearly inside it (from 0 for the first bucket). Ranks beyond the last finite bound answer
 * that bound, since nothing better is known. Undefined when there are no observations.
 */
export function histogramQuantile(histogram: Histogram, q: number): number | undefined {
  if (histogram.count <= 0 || !(q >= 0 && q <= 1)) return undefined;
  const rank = q * histogram.count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (let i = 0; i < histogram.bounds.length; i++) {
    const bound = histogram.bounds[i] ?? 0;
    const count = histogram.cumulative[i] ?? 0;
    if (count >= rank && count > lowerCount) {
      return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / (count - lowerCount);
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return histogram.bounds.at(-1);
}

/** Adds histograms with the same bounds (e.g. one per route or model); others are ignored. */
export function sumHistograms(histograms: readonly Histogram[]): Histogram {
  const [first] = histograms;
  if (first === undefined) return EMPTY_HISTOGRAM;
  const cumulative = first.bounds.map(() => 0);
  let count = 0;
  let sum = 0;
  for (const h of histograms) {
    if (h.bounds.length !== first.bounds.length || h.bounds.some((b, i) => b !== first.bounds[i])) continue;
    h.cumulative.forEach((c, i) => (cumulative[i] = (cumulative[i] ?? 0) + c));
    count += h.count;
    sum += h.sum;
  }
  return { bounds: first.bounds, cumulative, count, sum };
}
