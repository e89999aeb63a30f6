import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** Sampling period of the delay histogram while the server has traffic: prom-client's own default. */
const RESOLUTION_MS = 10;
/** With no request for this long the sampling stops, and with it the timer waking an idle server. */
const IDLE_AFTER_MS = 10_000;

/**
 * prom-client's event-loop metrics (`nodejs_eventloop_lag_*`, same names and meaning) with its sampling timer
 * running only while requests come: its 10 ms timer woke an idle server 100 times a second, most of the CPU an
 * idle server used. Samples taken while idle would all read zero anyway. `touch()` is called once per request.
 */
export class EventLoopDelay {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private lastTouch = 0;
  private enabled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    const lag = new Gauge({
      name: 'nodejs_eventloop_lag_seconds',
      help: 'Lag of event loop in seconds.',
      registers,
      aggregator: 'average',
      collect: async () => {
        const started = performance.now();
        await new Promise((resolve) => setImmediate(resolve));
        lag.set((performance.now() - started) / 1000);
      },
    });
    const gauge = (suffix: string, help: string, read: (h: IntervalHistogram) => number): void => {
      const histogram = this.histogram;
      new Gauge({
        name: `nodejs_eventloop_lag_${suffix}_seconds`,
        help,
        registers,
        aggregator: 'average',
        collect() {
          // An empty histogram reads NaN or huge sentinels: a server with no traffic has no lag.
          this.set(histogram.count === 0 ? 0 : read(histogram) / 1e9);
        },
      });
    };
    gauge('min', 'The minimum recorded event loop delay.', (h) => h.min);
    gauge('max', 'The maximum recorded event loop delay.', (h) => h.max);
    gauge('mean', 'The mean of the recorded event loop delays.', (h) => h.mean);
    gauge('stddev', 'The standard deviation of the recorded event loop delays.', (h) => h.stddev);
    gauge('p50', 'The 50th percentile of the recorded event loop delays.', (h) => h.percentile(50));
    gauge('p90', 'The 90th percentile of the recorded event loop delays.', (h) => h.percentile(90));
    // The last one read resets the histogram, as prom-client does: each scrape covers the time since the last.
    gauge('p99', 'The 99th percentile of the recorded event loop delays.', (h) => {
      const value = h.percentile(99);
      h.reset();
      return value;
    });
  }

  /** A request arrived: sample the loop (again) until the server has been idle for a while. */
  touch(): void {
    this.lastTouch = performance.now();
    if (this.enabled) return;
    this.enabled = true;
    this.histogram.enable();
    this.armIdleCheck(IDLE_AFTER_MS);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.histogram.disable();
    this.enabled = false;
  }

  private armIdleCheck(ms: number): void {
    this.timer = setTimeout(() => {
      const idleFor = performance.now() - this.lastTouch;
      if (idleFor < IDLE_AFTER_MS) {
        this.armIdleCheck(IDLE_AFTER_MS - idleFor);
        return;
      }
      this.histogram.disable();
      this.enabled = false;
    }, ms);
    this.timer.unref();
  }
}

type DefaultMetric = (registry: Registry, config: object) => void;

/**
 * prom-client's default process metrics (CPU, memory, handles, heap, GC, version) without its own event-loop
 * metric, whose timer never stops; EventLoopDelay provides the same names.
 */
export function collectProcessMetrics(registry: Registry): void {
  const require = createRequire(import.meta.url);
  for (const name of [
    'processCpuTotal',
    'processStartTime',
    'osMemoryHeap',
    'processOpenFileDescriptors',
    'processMaxFileDescriptors',
    ...(typeof process.getActiveResourcesInfo === 'function' ? ['processResources'] : []),
    'processHandles',
    'processRequests',
    'heapSizeAndUsed',
    'heapSpacesSizeAndUsed',
    'version',
    'gc',
  ]) {
    (require(`prom-client/lib/metrics/${name}.js`) as DefaultMetric)(registry, {});
  }
}
