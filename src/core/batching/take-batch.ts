import type { BatchingOptions } from './scheduler-options.js';
import type { PendingRequest } from './pending-request.js';

/**
 * Takes the next execution's requests out of `queue`, oldest first. Without batching, the head alone. With
 * it, the head and every request behind it that may share its batch (same key) up to maxBatchSize rows, once
 * the batch is full or of a preferred size, or the head has waited maxQueueDelayMs, or `flush` says not to
 * wait; else nothing yet. Taken requests can no longer time out in the queue.
 */
export function takeBatch(
  queue: PendingRequest[],
  batching: BatchingOptions | undefined,
  flush: boolean,
): PendingRequest[] | undefined {
  const head = queue[0];
  if (head === undefined) return undefined;
  if (batching === undefined) {
    queue.shift();
    clearTimeout(head.queueTimer);
    return [head];
  }
  const members: PendingRequest[] = [];
  let rows = 0;
  for (const pending of queue) {
    if (pending.key !== head.key || rows + pending.rows > batching.maxBatchSize) continue;
    members.push(pending);
    rows += pending.rows;
  }
  const full = rows >= batching.maxBatchSize || batching.preferredBatchSizes.includes(rows);
  const due = performance.now() - head.enqueued >= batching.maxQueueDelayMs;
  if (!full && !due && !flush) return undefined;
  for (const member of members) {
    queue.splice(queue.indexOf(member), 1);
    clearTimeout(member.queueTimer);
  }
  return members;
}
