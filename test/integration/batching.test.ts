// Dynamic batching through the real server and the real runtime: concurrent callers share executions and
// each still gets exactly its own result; the metrics show it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtureModel } from '../helpers/paths.js';
import { startTestServer } from '../helpers/test-server.js';

test('concurrent requests to a batching model are merged, split back correctly, and counted', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-batching-'));
  copyFileSync(fixtureModel('tabular-linear/model.onnx'), path.join(dir, 'model.onnx'));
  writeFileSync(
    path.join(dir, 'model.json'),
    JSON.stringify({ batching: { maxBatchSize: 8, maxQueueDelayMs: 20 } }),
  );
  const server = await startTestServer({ model: dir, name: 'batchy' });
  try {
    // score = x1 + 2 x2 + 3 x3 + 4 x4 + 0.5, so every caller can check it got its own row back.
    const callers = Array.from({ length: 24 }, (_, i) => [i, i % 3, 1, i % 5]);
    const answers = await Promise.all(
      callers.map(async (x) => {
        const rowsInOneRequest = x[0] === 5 ? [x, x] : [x];
        const response = await fetch(`${server.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ X: rowsInOneRequest }),
        });
        return (await response.json()) as { score: number[] };
      }),
    );
    for (const [i, x] of callers.entries()) {
      const expected = (x[0] ?? 0) + 2 * (x[1] ?? 0) + 3 * (x[2] ?? 0) + 4 * (x[3] ?? 0) + 0.5;
      assert.deepEqual(answers[i]?.score, x[0] === 5 ? [expected, expected] : [expected], `caller ${i}`);
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const value = (name: string): number =>
      Number(new RegExp(`^${name}\\{model="batchy",version="1"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? NaN);
    assert.equal(value('nv_inference_count'), 25);
    const executions = value('nv_inference_exec_count');
    assert.ok(executions < 24, `${executions} executions for 24 requests: nothing was batched`);
    const singles = Number(
      /^skiff_batch_size_bucket\{le="1",model="batchy",version="1"\} (\d+)/m.exec(metrics)?.[1] ?? NaN,
    );
    assert.ok(singles < executions, 'the batch-size histogram shows batches larger than 1');
  } finally {
    await server.close();
  }
});
