import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { InferenceObserver, InferenceReport } from '../../core/inference-observer.js';
import type { ServedModels } from '../../core/registry/served-models.js';
import { EventLoopDelay, collectProcessMetrics } from './event-loop-delay.js';

/** One line of the exposition: a series' full name (with _bucket, _sum or _count), its labels, its value. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Prometheus metrics: Triton's names where they mean the same thing (counters of microseconds included),
 * plus skiff_* histograms and gauges. docs/metrics.md lists every one (a test checks).
 */
export class PrometheusMetrics implements InferenceObserver {
  readonly registry = new Registry();
  private readonly success: Counter;
  private readonly failure: Counter;
  private readonly inferences: Counter;
  private readonly executions: Counter;
  private readonly requestMicros: Counter;
  private readonly queueMicros: Counter;
  private readonly computeMicros: Counter;
  private readonly queueSeconds: Histogram;
  private readonly computeSeconds: Histogram;
  private readonly batchSize: Histogram;
  private readonly httpSeconds: Histogram;
  private readonly startup: Gauge;
  private readonly loop: EventLoopDelay;

  constructor(models: Pick<ServedModels, 'list'>) {
    const labelNames = ['model', 'version'] as const;
    const registers = [this.registry];
    this.success = new Counter({
      name: 'nv_inference_request_success',
      help: 'Inference requests that succeeded',
      labelNames,
      registers,
    });
    this.failure = new Counter({
      name: 'nv_inference_request_failure',
      help: 'Inference requests that failed',
      labelNames,
      registers,
    });
    this.inferences = new Counter({
      name: 'nv_inference_count',
      help: 'Inferences performed (one per batch element)',
      labelNames,
      registers,
    });
    this.executions = new Counter({
      name: 'nv_inference_exec_count',
      help: 'Model executions (batches run)',
      labelNames,
      registers,
    });
    this.requestMicros = new Counter({
      name: 'nv_inference_request_duration_us',
      help: 'Cumulative time requests spent in the model scheduler and model, microseconds',
      labelNames,
      registers,
    });
    this.queueMicros = new Counter({
      name: 'nv_inference_queue_duration_us',
      help: 'Cumulative time requests waited for the model, microseconds',
      labelNames,
      registers,
    });
    this.computeMicros = new Counter({
      name: 'nv_inference_compute_infer_duration_us',
      help: 'Cumulative time spent running the model, microseconds',
      labelNames,
      registers,
    });
    this.queueSeconds = new Histogram({
      name: 'skiff_queue_duration_seconds',
      help: 'Time a request waited for a free model instance',
      labelNames,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.computeSeconds = new Histogram({
      name: 'skiff_compute_duration_seconds',
      help: 'Time a request ran on the model',
      labelNames,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.batchSize = new Histogram({
      name: 'skiff_batch_size',
      help: 'Batch size of each model execution',
      labelNames,
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    });
    this.httpSeconds = new Histogram({
      name: 'skiff_http_request_duration_seconds',
      help: 'HTTP requests by route, method and status, end to end',
      labelNames: ['route', 'method', 'status'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.startup = new Gauge({
      name: 'skiff_startup_phase_seconds',
      help: 'Cold start: seconds from process start to the end of each phase',
      labelNames: ['phase'],
      registers,
    });
    new Gauge({
      name: 'skiff_inflight_requests',
      help: 'Requests running on a model now',
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const model of models.list())
          this.set({ model: model.name, version: model.version }, model.queueDepth.inFlight);
      },
    });
    new Gauge({
      name: 'skiff_queued_requests',
      help: 'Requests waiting for a model now',
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const model of models.list())
          this.set({ model: model.name, version: model.version }, model.queueDepth.queued);
      },
    });
    new Gauge({
      name: 'skiff_model_ready',
      help: '1 when the model version is ready, else 0',
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const model of models.list())
          this.set({ model: model.name, version: model.version }, model.state === 'ready' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'skiff_model_load_seconds',
      help: 'Seconds to create the model session and warm it up',
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const model of models.list()) {
          const t = model.timings;
          // The workers' own measure when there is one: with preloading the server waited far less.
          const ms =
            t === undefined
              ? undefined
              : t.inRuntime === undefined
                ? t.sessionCreateMs + t.warmUpMs
                : t.inRuntime.sessionCreateMs + t.inRuntime.warmUpMs + t.warmUpMs;
          if (ms !== undefined) this.set({ model: model.name, version: model.version }, ms / 1000);
        }
      },
    });
    collectProcessMetrics(this.registry);
    this.loop = new EventLoopDelay(this.registry);
  }

  inferenceDone(report: InferenceReport): void {
    this.loop.touch();
    const labels = { model: report.model, version: report.version };
    (report.outcome === 'success' ? this.success : this.failure).inc(labels);
    if (report.outcome === 'success') this.inferences.inc(labels, report.batchSize);
    if (report.outcome === 'success' && report.execution !== undefined) {
      this.executions.inc(labels);
      this.batchSize.observe(labels, report.execution.batchSize);
    }
    this.requestMicros.inc(labels, Math.round((report.queueSeconds + report.computeSeconds) * 1e6));
    this.queueMicros.inc(labels, Math.round(report.queueSeconds * 1e6));
    this.computeMicros.inc(labels, Math.round(report.computeSeconds * 1e6));
    this.queueSeconds.observe(labels, report.queueSeconds);
    this.computeSeconds.observe(labels, report.computeSeconds);
  }

  httpRequest(route: string, method: string, status: number, seconds: number): void {
    this.loop.touch();
    this.httpSeconds.observe({ route, method, status: String(status) }, seconds);
  }

  startupPhases(phases: Readonly<Record<string, number>>): void {
    for (const [phase, ms] of Object.entries(phases)) this.startup.set({ phase }, ms / 1000);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * The current samples of a few metrics, as the exposition text would list them, without rendering it:
   * the text runs every metric's collector (process, heap, file descriptors) and the reader must parse it
   * again, which made the web page's 5 s history most of an idle server's CPU.
   */
  async samplesOf(names: readonly string[]): Promise<MetricSample[]> {
    const samples: MetricSample[] = [];
    for (const name of names) {
      const metric = this.registry.getSingleMetric(name);
      if (metric === undefined) continue;
      // Histograms name each value (x_bucket, x_sum, x_count); counters and gauges leave it to the metric's.
      const { values } = (await metric.get()) as {
        values: { metricName?: string; labels: Partial<Record<string, string | number>>; value: number }[];
      };
      for (const { metricName, labels, value } of values) {
        const text: Record<string, string> = {};
        for (const [key, label] of Object.entries(labels)) if (label !== undefined) text[key] = String(label);
        samples.push({ name: metricName ?? name, labels: text, value });
      }
    }
    return samples;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
