import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TurnQueue } from './turn-queue.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('tasks run in order, one per turn of the event loop, other callbacks between them', async () => {
  const queue = new TurnQueue();
  const order: string[] = [];
  queue.enqueue(() => order.push('a'));
  queue.enqueue(() => order.push('b'));
  queue.enqueue(() => order.push('c'));
  setImmediate(() => order.push('other'));
  assert.equal(queue.length, 3);
  for (let i = 0; i < 4; i++) await turn();
  assert.deepEqual(order, ['a', 'other', 'b', 'c']);
  assert.equal(queue.length, 0);
});

test('a steady stream that never lets the queue empty still runs every task, in order', async () => {
  const queue = new TurnQueue();
  const seen: number[] = [];
  let sent = 0;
  // Two new tasks per turn while one runs: the queue never empties until sending stops.
  while (sent < 3000) {
    queue.enqueue(() => seen.push(seen.length));
    sent++;
    if (sent % 2 === 0) await turn();
  }
  while (queue.length > 0) await turn();
  assert.equal(seen.length, 3000);
  assert.ok(seen.every((value, index) => value === index));
});
