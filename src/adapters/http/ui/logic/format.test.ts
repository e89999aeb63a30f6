import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatClock, formatMs, formatPercent, formatRate, formatSeconds } from './format.js';

test('durations in the unit read fastest', () => {
  assert.equal(formatSeconds(0.00042), '420 µs');
  assert.equal(formatSeconds(0.0123), '12.3 ms');
  assert.equal(formatSeconds(0.25), '250 ms');
  assert.equal(formatSeconds(1.5), '1.5 s');
  assert.equal(formatSeconds(undefined), '–');
  assert.equal(formatMs(8.04), '8.04 ms');
});

test('percentages, rates, bytes and clock times', () => {
  assert.equal(formatPercent(0.99412), '99.4%');
  assert.equal(formatPercent(0.0002), '<0.1%');
  assert.equal(formatPercent(0), '0.0%');
  assert.equal(formatRate(0.2), '0.2/s');
  assert.equal(formatRate(undefined), '–');
  assert.equal(formatBytes(900), '900 B');
  assert.equal(formatBytes(20_480), '20 KB');
  assert.match(formatClock(Date.UTC(2026, 0, 1, 12, 3, 4)), /^\d\d:03:04$/);
});
