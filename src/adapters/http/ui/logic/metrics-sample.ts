import type { Histogram } from './histogram.js';
import { EMPTY_HISTOGRAM, sumHistograms } from './histogram.js';
import type { PromSample } from './prometheus-text.js';

/** One model version's cumulative counters and gauges at one scrape. */
export interface ModelCounters {
  readonly model: string;
  readonly version: string;
  readonly success: number;
  readonly failure: number;
  readonly ready: boolean;
  readonly inFlight: number;
  readonly queued: number;
}

/**
 * What the server view charts, taken from one scrape of the server's own /metrics: small enough to keep
 * 180 of them (15 minutes every 5 s) and send them all when the page opens.
 */
export interface MetricsSample {
  /** Milliseconds since the Unix epoch, on the server's clock. */
  readonly timeMs: number;
  readonly models: readonly ModelCounters[];
  /** End-to-end latency of successful (2xx) POSTs: the inference routes. */
  readonly latency: Histogram;
  /** Size of each model execution, every model added together. */
  readonly batch: Histogram;
}

const HTTP_HISTOGRAM = 'skiff_http_request_duration_seconds';
const BATCH_HISTOGRAM = 'skiff_batch_size';

export function metricsSample(samples: readonly PromSample[], timeMs: number): MetricsSample {
  const models = new Map<string, { model: string; version: string; values: Map<string, number> }>();
  for (const s of samples) {
    const model = s.labels.model;
    if (model === undefined || !MODEL_SERIES.has(s.name)) continue;
    const version = s.labels.version ?? '1';
    const key = `${model}\u0000${version}`;
    let entry = models.get(key);
    if (entry === undefined) {
      entry = { model, version, values: new Map() };
      models.set(key, entry);
    }
    entry.values.set(s.name, s.value);
  }
  return {
    timeMs,
    models: [...models.values()]
      .map(({ model, version, values }) => ({
        model,
        version,
        success: values.get('nv_inference_request_success') ?? 0,
        failure: values.get('nv_inference_request_failure') ?? 0,
        ready: values.get('skiff_model_ready') === 1,
        inFlight: values.get('skiff_inflight_requests') ?? 0,
        queued: values.get('skiff_queued_requests') ?? 0,
      }))
      .sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version)),
    latency: histogram(
      samples,
      HTTP_HISTOGRAM,
      (l) => l.method === 'POST' && /^2\d\d$/.test(l.status ?? '') && l.route !== 'unmatched',
    ),
    batch: histogram(samples, BATCH_HISTOGRAM, () => true),
  };
}

const MODEL_SERIES = new Set([
  'nv_inference_request_success',
  'nv_inference_request_failure',
  'skiff_model_ready',
  'skiff_inflight_requests',
  'skiff_queued_requests',
]);

/** The metrics a sample is made from: a sampler need read no others. */
export const SAMPLED_METRICS: readonly string[] = [...MODEL_SERIES, HTTP_HISTOGRAM, BATCH_HISTOGRAM];

/** Every series of one histogram whose labels pass `keep`, added together. */
function histogram(
  samples: readonly PromSample[],
  name: string,
  keep: (labels: Readonly<Record<string, string>>) => boolean,
): Histogram {
  const series = new Map<string, { buckets: Map<number, number>; count: number; sum: number }>();
  const seriesOf = (
    labels: Readonly<Record<string, string>>,
  ): { buckets: Map<number, number>; count: number; sum: number } => {
    const key = Object.entries(labels)
      .filter(([k]) => k !== 'le')
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    let entry = series.get(key);
    if (entry === undefined) {
      entry = { buckets: new Map(), count: 0, sum: 0 };
      series.set(key, entry);
    }
    return entry;
  };
  for (const s of samples) {
    if (!s.name.startsWith(name) || !keep(s.labels)) continue;
    const suffix = s.name.slice(name.length);
    if (suffix === '_bucket') {
      const le = Number(s.labels.le === '+Inf' ? Infinity : s.labels.le);
      if (Number.isFinite(le)) seriesOf(s.labels).buckets.set(le, s.value);
    } else if (suffix === '_count') seriesOf(s.labels).count = s.value;
    else if (suffix === '_sum') seriesOf(s.labels).sum = s.value;
  }
  if (series.size === 0) return EMPTY_HISTOGRAM;
  return sumHistograms(
    [...series.values()].map(({ buckets, count, sum }) => {
      const bounds = [...buckets.keys()].sort((a, b) => a - b);
      return { bounds, cumulative: bounds.map((b) => buckets.get(b) ?? 0), count, sum };
    }),
  );
}
