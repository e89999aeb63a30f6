import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linePath, niceMax } from './chart-geometry.js';

const box = { width: 100, height: 50, startMs: 0, endMs: 1000, yMax: 10 };

test('a line across the box, y pointing down, with gaps where nothing was measured', () => {
  const d = linePath(
    [
      { timeMs: 0, y: 0 },
      { timeMs: 500, y: 10 },
      { timeMs: 600, y: undefined },
      { timeMs: 1000, y: 5 },
    ],
    box,
  );
  assert.equal(d, 'M0 50L50 0M100 25L101.5 25');
});

test('points before the window are dropped, values above the axis are clipped', () => {
  assert.equal(
    linePath(
      [
        { timeMs: -5, y: 1 },
        { timeMs: 1000, y: 40 },
      ],
      box,
    ),
    'M100 0L101.5 0',
  );
  assert.equal(linePath([], box), '');
});

test('axis maxima are 1, 2 or 5 times a power of ten', () => {
  assert.equal(niceMax(0), 1);
  assert.equal(niceMax(0.0123), 0.02);
  assert.equal(niceMax(3), 5);
  assert.equal(niceMax(7), 10);
  assert.equal(niceMax(100), 100);
});
