import { histogramDelta, histogramQuantile } from './histogram.js';
import type { MetricsSample } from './metrics-sample.js';

/** What happened between two samples, as the charts plot it; undefined where nothing was measured. */
export interface IntervalPoint {
  /** End of the interval, milliseconds since the epoch. */
  readonly timeMs: number;
  /** Inference requests (success + failure, every model) per second. */
  readonly requestsPerSecond: number;
  readonly errorsPerSecond: number;
  readonly p50Seconds: number | undefined;
  readonly p99Seconds: number | undefined;
  readonly meanBatchSize: number | undefined;
}

/**
 * Differences of consecutive samples. Counters only grow, so a drop means the server restarted and the
 * later value counts from zero. Samples are expected in time order; out-of-order pairs are skipped.
 */
export function intervalPoints(samples: readonly MetricsSample[]): IntervalPoint[] {
  const points: IntervalPoint[] = [];
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1];
    const after = samples[i];
    if (before === undefined || after === undefined) continue;
    const seconds = (after.timeMs - before.timeMs) / 1000;
    if (!(seconds > 0)) continue;
    const requests = counterDelta(total(after, 'all'), total(before, 'all'));
    const errors = counterDelta(total(after, 'failure'), total(before, 'failure'));
    const latency = histogramDelta(after.latency, before.latency);
    const batch = histogramDelta(after.batch, before.batch);
    points.push({
      timeMs: after.timeMs,
      requestsPerSecond: requests / seconds,
      errorsPerSecond: errors / seconds,
      p50Seconds: histogramQuantile(latency, 0.5),
      p99Seconds: histogramQuantile(latency, 0.99),
      meanBatchSize: batch.count > 0 ? batch.sum / batch.count : undefined,
    });
  }
  return points;
}

/** Inference requests the latest sample has counted, per model version (since the server started). */
export function requestTotals(sample: MetricsSample | undefined): Map<string, number> {
  const totals = new Map<string, number>();
  for (const m of sample?.models ?? []) totals.set(`${m.model}:${m.version}`, m.success + m.failure);
  return totals;
}

function total(sample: MetricsSample, which: 'all' | 'failure'): number {
  return sample.models.reduce((sum, m) => sum + m.failure + (which === 'all' ? m.success : 0), 0);
}

function counterDelta(later: number, earlier: number): number {
  return later >= earlier ? later - earlier : later;
}
