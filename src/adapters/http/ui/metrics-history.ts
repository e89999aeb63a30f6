import type { MetricsSample } from './logic/metrics-sample.js';
import { metricsSample } from './logic/metrics-sample.js';
import type { PromSample } from './logic/prometheus-text.js';

export interface MetricsHistoryOptions {
  /** The server's own samples of SAMPLED_METRICS (logic/metrics-sample.ts), as GET /metrics would list them. */
  readonly scrape: () => Promise<readonly PromSample[]>;
  readonly intervalMs: number;
  /** Samples kept; the oldest is dropped beyond it. */
  readonly capacity: number;
  readonly now?: () => number;
}

/** 5 s steps for 15 minutes: fine enough to see a burst, 180 small samples (about 100 KB of JSON at most). */
export const HISTORY_INTERVAL_MS = 5000;
export const HISTORY_CAPACITY = 180;

/**
 * A ring buffer of the server's own metrics, scraped in process, so the server view has history the moment
 * it opens instead of starting empty (polling /metrics from the page would only see from then on, and each
 * open tab would keep its own partial copy). Costs one in-process scrape per interval; nothing is sent
 * anywhere. The timer does not keep the process alive.
 */
export class MetricsHistory {
  private readonly ring: MetricsSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: MetricsHistoryOptions) {
    this.now = options.now ?? Date.now;
  }

  get intervalMs(): number {
    return this.options.intervalMs;
  }

  start(): void {
    if (this.timer !== undefined) return;
    void this.record();
    this.timer = setInterval(() => void this.record(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample now and keeps it. Scrape failures are skipped: a gap in a chart, not a crash. */
  async record(): Promise<void> {
    try {
      this.ring.push(await this.sampleNow());
    } catch {
      return;
    }
    if (this.ring.length > this.options.capacity)
      this.ring.splice(0, this.ring.length - this.options.capacity);
  }

  /** A sample of this moment, not kept: the page's newest point is always current. */
  async sampleNow(): Promise<MetricsSample> {
    return metricsSample(await this.options.scrape(), this.now());
  }

  /** Kept samples after `sinceMs` (all when undefined), oldest first. */
  samples(sinceMs?: number): MetricsSample[] {
    return sinceMs === undefined ? [...this.ring] : this.ring.filter((s) => s.timeMs > sinceMs);
  }
}
