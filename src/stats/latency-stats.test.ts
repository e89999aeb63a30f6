import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latencyStats, median, percentile, ratePerSecond } from './latency-stats.js';

test('percentile uses the nearest rank: p50 of 1..10 is 5, p90 is 9, p99 and p100 are 10', () => {
  const values = Array.from({ length: 10 }, (_, i) => i + 1);
  assert.equal(percentile(values, 0.5), 5);
  assert.equal(percentile(values, 0.9), 9);
  assert.equal(percentile(values, 0.99), 10);
  assert.equal(percentile(values, 1), 10);
  assert.equal(percentile(values, 0), 1);
});

test('percentile of 1..1000: p99 is the 990th value, not an interpolation', () => {
  const values = Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.equal(percentile(values, 0.99), 990);
  assert.equal(percentile(values, 0.5), 500);
});

test('percentile of nothing is NaN; of one sample is that sample', () => {
  assert.ok(Number.isNaN(percentile([], 0.5)));
  assert.equal(percentile([7.5], 0.99), 7.5);
});

test('latencyStats sorts numerically (not as strings) and orders p50 <= p90 <= p99 <= max', () => {
  const stats = latencyStats([100, 9, 20, 3, 1000, 50, 7, 8, 60, 2]);
  assert.equal(stats.count, 10);
  assert.equal(stats.p50Ms, 9);
  assert.equal(stats.p90Ms, 100);
  assert.equal(stats.maxMs, 1000);
  assert.equal(stats.meanMs, 125.9);
});

test('latencyStats of no samples: count 0 and NaN figures', () => {
  const stats = latencyStats([]);
  assert.equal(stats.count, 0);
  assert.ok(Number.isNaN(stats.p50Ms) && Number.isNaN(stats.maxMs) && Number.isNaN(stats.meanMs));
});

test('ratePerSecond: count over elapsed milliseconds; 0 for an empty interval', () => {
  assert.equal(ratePerSecond(50, 2000), 25);
  assert.equal(ratePerSecond(3, 0), 0);
});

test('median: middle value, mean of the middle two, NaN for none', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});
