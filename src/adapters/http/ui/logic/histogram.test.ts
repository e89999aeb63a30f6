import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogramDelta, histogramQuantile, sumHistograms } from './histogram.js';

const h = (cumulative: number[], count: number, sum = 0) => ({
  bounds: [0.01, 0.1, 1],
  cumulative,
  count,
  sum,
});

test('quantiles interpolate inside the bucket holding the rank, as histogram_quantile does', () => {
  // 10 observations: 4 under 10 ms, 5 more under 100 ms, 1 under 1 s.
  const hist = h([4, 9, 10], 10);
  assert.equal(histogramQuantile(hist, 0.2), 0.005);
  assert.ok(Math.abs((histogramQuantile(hist, 0.5) ?? 0) - 0.028) < 1e-12);
  assert.ok(Math.abs((histogramQuantile(hist, 0.99) ?? 0) - 0.91) < 1e-12);
  assert.equal(histogramQuantile(h([0, 0, 0], 0), 0.5), undefined, 'no observations, no quantile');
  assert.equal(histogramQuantile(h([0, 0, 0], 3), 0.5), 1, 'beyond the last bound: that bound');
});

test('a delta is what happened between scrapes; a reset keeps the later histogram', () => {
  assert.deepEqual(histogramDelta(h([5, 9, 12], 12, 3), h([4, 8, 10], 10, 2)), h([1, 1, 2], 2, 1));
  assert.deepEqual(histogramDelta(h([1, 1, 1], 1), h([4, 8, 10], 10)), h([1, 1, 1], 1));
});

test('histograms with the same bounds add up; others are left out', () => {
  const other = { bounds: [1], cumulative: [5], count: 5, sum: 1 };
  assert.deepEqual(sumHistograms([h([1, 2, 3], 3, 1), h([1, 1, 1], 1, 1), other]), h([2, 3, 4], 4, 2));
  assert.deepEqual(sumHistograms([]).count, 0);
});
