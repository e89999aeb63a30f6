import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsHistory } from './metrics-history.js';
import { parsePrometheusText } from './logic/prometheus-text.js';
import type { PromSample } from './logic/prometheus-text.js';

const scrapeOf = (requests: () => number) => async (): Promise<PromSample[]> =>
  parsePrometheusText(
    `nv_inference_request_success{model="m",version="1"} ${requests()}\nskiff_model_ready{model="m",version="1"} 1\n`,
  );

test('keeps the newest samples up to its capacity, oldest first, and filters by time', async () => {
  let clock = 0;
  let requests = 0;
  const history = new MetricsHistory({
    scrape: scrapeOf(() => requests),
    intervalMs: 5000,
    capacity: 3,
    now: () => clock,
  });
  for (let i = 1; i <= 5; i++) {
    clock = i * 5000;
    requests = i;
    await history.record();
  }
  assert.deepEqual(
    history.samples().map((s) => [s.timeMs, s.models[0]?.success]),
    [
      [15_000, 3],
      [20_000, 4],
      [25_000, 5],
    ],
  );
  assert.deepEqual(
    history.samples(20_000).map((s) => s.timeMs),
    [25_000],
  );
  clock = 26_000;
  const now = await history.sampleNow();
  assert.equal(now.timeMs, 26_000);
  assert.equal(history.samples().length, 3, 'a sample of the moment is not kept');
});

test('a failed scrape leaves a gap instead of throwing', async () => {
  const history = new MetricsHistory({
    scrape: () => Promise.reject(new Error('registry broke')),
    intervalMs: 5000,
    capacity: 3,
  });
  await history.record();
  assert.deepEqual(history.samples(), []);
});

test('start takes a first sample at once; stop ends the timer', async () => {
  const history = new MetricsHistory({ scrape: scrapeOf(() => 0), intervalMs: 60_000, capacity: 3 });
  history.start();
  history.start();
  await new Promise((resolve) => setImmediate(resolve));
  history.stop();
  assert.equal(history.samples().length, 1);
});
