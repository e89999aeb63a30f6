import { formatRate, formatSeconds } from '../logic/format.js';
import type { MetricsSample } from '../logic/metrics-sample.js';
import { intervalPoints, requestTotals } from '../logic/series.js';
import { callApi, errorMessage } from './api-client.js';
import { byId, element } from './dom.js';
import { drawChart } from './svg-chart.js';

interface ModelRow {
  readonly name: string;
  readonly version: string;
  readonly state: string;
  readonly reason: string;
}

interface HistoryAnswer {
  readonly intervalMs: number;
  readonly samples: readonly MetricsSample[];
  readonly now?: MetricsSample;
}

const WINDOW_MS = 15 * 60 * 1000;

/**
 * The "Server" view: models and their state, then request rate, p50/p99 latency and batch sizes over the
 * last 15 minutes, from the server's in-process history of its own /metrics. Polls only while shown.
 */
export class ServerView {
  private readonly status = byId('server-status', HTMLParagraphElement);
  private readonly tbody = byId('models', HTMLTableElement).tBodies[0];
  private samples: MetricsSample[] = [];
  private timer: number | undefined;

  show(): void {
    void this.refresh();
    this.timer ??= window.setInterval(() => {
      if (document.visibilityState === 'visible') void this.refresh();
    }, 5000);
  }

  hide(): void {
    window.clearInterval(this.timer);
    this.timer = undefined;
  }

  async refresh(): Promise<void> {
    try {
      const since = this.samples.at(-1)?.timeMs;
      const [models, history] = await Promise.all([
        callApi('/ui/api/models'),
        callApi(`/ui/api/history${since === undefined ? '' : `?since=${since}`}`),
      ]);
      if (models.status !== 200 || history.status !== 200) {
        this.status.textContent = errorMessage(models.status !== 200 ? models : history);
        return;
      }
      const answer = history.body as HistoryAnswer;
      this.samples = [...this.samples, ...answer.samples].filter(
        (s, i, all) => i === 0 || s.timeMs > (all[i - 1]?.timeMs ?? 0),
      );
      const newest = answer.now ?? this.samples.at(-1);
      const endMs = newest?.timeMs ?? Date.now();
      this.samples = this.samples.filter((s) => s.timeMs >= endMs - WINDOW_MS);
      this.render((models.body as { models: ModelRow[] }).models, newest, endMs);
    } catch (error) {
      this.status.textContent = `Cannot reach the server: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  private render(models: readonly ModelRow[], newest: MetricsSample | undefined, endMs: number): void {
    const totals = requestTotals(newest);
    const live = new Map((newest?.models ?? []).map((m) => [`${m.model}:${m.version}`, m]));
    this.tbody?.replaceChildren(
      ...models.map((m) => {
        const key = `${m.name}:${m.version}`;
        return element(
          'tr',
          { attrs: { 'data-model': m.name } },
          element('th', { text: m.name, attrs: { scope: 'row' } }),
          element('td', { text: m.version }),
          element('td', {
            text: m.state === 'ready' ? 'ready' : `${m.state}: ${m.reason}`,
            className: `state-${m.state}`,
          }),
          element('td', { text: String(totals.get(key) ?? 0), className: 'num requests' }),
          element('td', { text: String(live.get(key)?.inFlight ?? 0), className: 'num' }),
          element('td', { text: String(live.get(key)?.queued ?? 0), className: 'num' }),
        );
      }),
    );
    const withNow =
      newest === undefined || newest === this.samples.at(-1) ? this.samples : [...this.samples, newest];
    const points = intervalPoints(withNow);
    const startMs = Math.max(endMs - WINDOW_MS, this.samples[0]?.timeMs ?? endMs - 60_000);
    const window = { startMs: Math.min(startMs, endMs - 60_000), endMs };
    const ready = models.filter((m) => m.state === 'ready').length;
    this.status.textContent = `${models.length} model version${models.length === 1 ? '' : 's'}, ${ready} ready; ${[...totals.values()].reduce((a, b) => a + b, 0)} inference requests since start.`;
    drawChart(
      byId('chart-rate', HTMLElement),
      'Requests per second',
      [
        {
          name: 'all',
          points: points.map((p) => ({ timeMs: p.timeMs, y: p.requestsPerSecond })),
          className: 'legend-a',
        },
        {
          name: 'failed',
          points: points.map((p) => ({ timeMs: p.timeMs, y: p.errorsPerSecond })),
          className: 'legend-b',
        },
      ],
      window,
      formatRate,
    );
    drawChart(
      byId('chart-latency', HTMLElement),
      'Latency',
      [
        {
          name: 'p50',
          points: points.map((p) => ({ timeMs: p.timeMs, y: p.p50Seconds })),
          className: 'legend-a',
        },
        {
          name: 'p99',
          points: points.map((p) => ({ timeMs: p.timeMs, y: p.p99Seconds })),
          className: 'legend-b',
        },
      ],
      window,
      formatSeconds,
    );
    drawChart(
      byId('chart-batch', HTMLElement),
      'Batch size',
      [
        {
          name: 'mean',
          points: points.map((p) => ({ timeMs: p.timeMs, y: p.meanBatchSize })),
          className: 'legend-a',
        },
      ],
      window,
      (v) => (v === undefined ? '–' : String(Math.round(v * 10) / 10)),
    );
  }
}
