import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { runClosedLoop } from './closed-loop.js';
import { runOpenLoop } from './open-loop.js';
import type { Outcome, Send } from './step-tally.js';

/** A sender that answers after `ms`, tracking how many requests are open at once. */
function slowSender(
  ms: number,
  outcome: Outcome = { ok: true, status: 200 },
): Send & { peak: number; sent: number } {
  let open = 0;
  const send = Object.assign(
    async (): Promise<Outcome> => {
      send.sent++;
      open++;
      send.peak = Math.max(send.peak, open);
      await sleep(ms);
      open--;
      return outcome;
    },
    { peak: 0, sent: 0 },
  );
  return send;
}

test('closed loop: exactly the requested count, never more than `concurrency` open', async () => {
  const send = slowSender(5);
  const result = await runClosedLoop({ send, concurrency: 3, length: { requests: 10 } });
  assert.equal(send.sent, 10);
  assert.equal(send.peak, 3);
  assert.equal(result.ok, 10);
  assert.equal(result.latency.count, 10);
  assert.ok(result.latency.p50Ms >= 4, String(result.latency.p50Ms));
  assert.equal(result.label, 'c=3');
});

test('closed loop by duration: stops sending at the deadline; rate is ok over wall time', async () => {
  const send = slowSender(10);
  const result = await runClosedLoop({ send, concurrency: 2, length: { durationMs: 200 } });
  assert.ok(result.elapsedMs >= 200 && result.elapsedMs < 400, String(result.elapsedMs));
  assert.ok(result.ok > 10 && result.ok <= 40, String(result.ok));
  assert.ok(Math.abs(result.perSecond - (result.ok * 1000) / result.elapsedMs) < 1e-9);
});

test('failures are counted by status with the first message, and kept out of the latencies', async () => {
  let i = 0;
  const send: Send = () =>
    Promise.resolve(
      i++ % 2 === 0 ? { ok: true, status: 200 } : { ok: false, status: 503, message: `queue full ${i}` },
    );
  const result = await runClosedLoop({ send, concurrency: 1, length: { requests: 6 } });
  assert.equal(result.ok, 3);
  assert.equal(result.errors, 3);
  assert.deepEqual(result.errorsByStatus, { '503': { count: 3, message: 'queue full 2' } });
  assert.equal(result.latency.count, 3);
});

test('open loop: arrivals keep their schedule while answers are slow; beyond maxInFlight they are dropped', async () => {
  const send = slowSender(200);
  const started = performance.now();
  const result = await runOpenLoop({ send, ratePerSecond: 100, maxInFlight: 5, length: { requests: 12 } });
  // 12 arrivals 10 ms apart all fall within the first answer's 200 ms: 5 sent, 7 dropped.
  assert.equal(send.sent, 5);
  assert.equal(result.dropped, 7);
  assert.equal(result.ok, 5);
  assert.ok(performance.now() - started < 1000);
  assert.equal(result.label, 'rate=100/s');
  assert.equal(result.targetRatePerSecond, 100);
});

test('open loop by duration: rate x duration arrivals, latency counted from the scheduled time', async () => {
  const send = slowSender(1);
  const result = await runOpenLoop({
    send,
    ratePerSecond: 50,
    maxInFlight: 100,
    length: { durationMs: 400 },
  });
  assert.equal(send.sent + (result.dropped ?? 0), 20);
  // libuv rounds timers to whole milliseconds, so a 1 ms wait can measure a little under 1 ms.
  assert.ok(result.latency.p50Ms >= 0.5, String(result.latency.p50Ms));
});

test('open loop behind schedule still reads answers between arrivals: an instant server drops nothing', async () => {
  const send: Send = () => Promise.resolve({ ok: true, status: 200 });
  const result = await runOpenLoop({
    send,
    ratePerSecond: 100_000,
    maxInFlight: 1,
    length: { requests: 50 },
  });
  assert.equal(result.dropped, 0);
  assert.equal(result.ok, 50);
});
