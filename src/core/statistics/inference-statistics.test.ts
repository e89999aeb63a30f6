import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InferenceReport } from '../inference-observer.js';
import { InferenceStatistics } from './inference-statistics.js';

const report = (overrides: Partial<InferenceReport>): InferenceReport => ({
  model: 'm',
  version: '1',
  outcome: 'success',
  queueSeconds: 0.001,
  computeSeconds: 0.002,
  batchSize: 1,
  executionBatchSize: 1,
  execution: { batchSize: 1 },
  ...overrides,
});

test('counts requests, rows and executions as Triton defines them, with the measured durations', () => {
  const statistics = new InferenceStatistics(() => 1_700_000_000_000);
  // One execution of batch 3 from two requests (rows 2 + 1), then one of batch 1, then a failure.
  statistics.inferenceDone(report({ batchSize: 2, executionBatchSize: 3, execution: { batchSize: 3 } }));
  statistics.inferenceDone(report({ batchSize: 1, executionBatchSize: 3, execution: undefined }));
  statistics.inferenceDone(report({ queueSeconds: 0, computeSeconds: 0.004 }));
  statistics.inferenceDone(report({ outcome: 'failure', queueSeconds: 0.5, computeSeconds: 0 }));
  const s = statistics.of('m', '1');
  assert.equal(s.lastInferenceMs, 1_700_000_000_000);
  assert.equal(s.inferenceCount, 4);
  assert.equal(s.executionCount, 2);
  assert.deepEqual(s.success, { count: 3, ns: 3_000_000n + 3_000_000n + 4_000_000n });
  assert.deepEqual(s.fail, { count: 1, ns: 500_000_000n });
  assert.deepEqual(s.queue, { count: 3, ns: 2_000_000n });
  assert.deepEqual(s.computeInfer, { count: 3, ns: 8_000_000n });
  // Not measured apart from the run: counted, with 0 ns (docs/protocol.md says so).
  assert.deepEqual(s.computeInput, { count: 3, ns: 0n });
  assert.deepEqual(s.computeOutput, { count: 3, ns: 0n });
  assert.deepEqual(
    s.batches.map((b) => [b.batchSize, b.computeInfer.count, b.computeInfer.ns]),
    [
      [1, 1, 4_000_000n],
      [3, 1, 2_000_000n],
    ],
  );
});

test('a version that took no request reports zeros; versions are counted apart', () => {
  const statistics = new InferenceStatistics();
  statistics.inferenceDone(report({ version: '2' }));
  assert.equal(statistics.of('m', '1').inferenceCount, 0);
  assert.deepEqual(statistics.of('m', '1').batches, []);
  assert.equal(statistics.of('m', '2').inferenceCount, 1);
});
