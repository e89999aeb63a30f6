import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricsSample } from './metrics-sample.js';
import { intervalPoints, requestTotals } from './series.js';

const sample = (
  timeMs: number,
  success: number,
  failure: number,
  latency: number[],
  batch: number[],
): MetricsSample => ({
  timeMs,
  models: [{ model: 'dog', version: '1', success, failure, ready: true, inFlight: 0, queued: 0 }],
  latency: { bounds: [0.01, 0.1], cumulative: latency, count: latency.at(-1) ?? 0, sum: 0 },
  batch: { bounds: [1, 2, 4], cumulative: batch, count: batch.at(-1) ?? 0, sum: (batch.at(-1) ?? 0) * 2 },
});

test('rates, quantiles and mean batch size per interval; an idle interval has no latency', () => {
  const points = intervalPoints([
    sample(0, 0, 0, [0, 0], [0, 0, 0]),
    sample(5000, 8, 2, [5, 10], [0, 10, 10]),
    sample(10_000, 8, 2, [5, 10], [0, 10, 10]),
  ]);
  assert.equal(points.length, 2);
  const [busy] = points;
  assert.ok(busy !== undefined);
  assert.equal(busy.requestsPerSecond, 2);
  assert.equal(busy.errorsPerSecond, 0.4);
  assert.equal(busy.p50Seconds, 0.01);
  assert.ok(Math.abs((busy.p99Seconds ?? 0) - 0.0982) < 1e-9);
  assert.equal(busy.meanBatchSize, 2);
  assert.deepEqual(points[1], {
    timeMs: 10_000,
    requestsPerSecond: 0,
    errorsPerSecond: 0,
    p50Seconds: undefined,
    p99Seconds: undefined,
    meanBatchSize: undefined,
  });
});

test('a restart (counters going down) counts from zero; samples out of order are skipped', () => {
  const points = intervalPoints([
    sample(0, 100, 0, [0, 0], [0, 0, 0]),
    sample(1000, 3, 0, [0, 0], [0, 0, 0]),
  ]);
  assert.equal(points[0]?.requestsPerSecond, 3);
  assert.deepEqual(
    intervalPoints([sample(1000, 0, 0, [0, 0], [0, 0, 0]), sample(1000, 1, 0, [0, 0], [0, 0, 0])]),
    [],
  );
});

test('request totals per model version', () => {
  assert.deepEqual([...requestTotals(sample(0, 4, 1, [0, 0], [0, 0, 0]))], [['dog:1', 5]]);
  assert.equal(requestTotals(undefined).size, 0);
});
