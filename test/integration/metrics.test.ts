import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fixtureModel, repoRoot } from '../helpers/paths.js';
import { startTestServer } from '../helpers/test-server.js';

const value = (text: string, name: string, labels: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  assert.ok(line, `${name}{${labels}} missing`);
  return Number(line.split(' ').pop());
};

test('GET /metrics counts requests, inferences and executions, times queue and compute, and docs/metrics.md lists every metric', async () => {
  const server = await startTestServer({
    model: fixtureModel('tabular-linear/model.onnx'),
    authToken: 'a-long-enough-test-token',
  });
  try {
    const auth = { authorization: 'Bearer a-long-enough-test-token', 'content-type': 'application/json' };
    for (const rows of [
      [[1, 1, 1, 1]],
      [
        [1, 1, 1, 1],
        [0, 0, 0, 1],
        [2, 2, 2, 2],
      ],
    ]) {
      const response = await fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ X: rows }),
      });
      assert.equal(response.status, 200);
    }
    const bad = await fetch(`${server.url}/v2/models/tabular-linear/infer`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }),
    });
    assert.equal(bad.status, 400);
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200, 'metrics need no token, like health');
    const text = await response.text();
    const labels = 'model="tabular-linear",version="1"';
    assert.equal(value(text, 'nv_inference_request_success', labels), 2, 'warm-up is not counted');
    assert.equal(value(text, 'nv_inference_count', labels), 4);
    assert.equal(value(text, 'nv_inference_exec_count', labels), 2);
    assert.equal(value(text, 'skiff_batch_size_bucket', `le="2",${labels}`), 1);
    assert.ok(value(text, 'nv_inference_compute_infer_duration_us', labels) > 0);
    assert.equal(value(text, 'skiff_model_ready', labels), 1);
    assert.equal(
      value(text, 'skiff_http_request_duration_seconds_count', 'route="/predict",method="POST",status="200"'),
      2,
    );
    assert.equal(
      value(
        text,
        'skiff_http_request_duration_seconds_count',
        'route="/v2/models/:model/infer",method="POST",status="400"',
      ),
      1,
    );
    for (const phase of ['config', 'model_fetch', 'session_create', 'warm_up', 'ready'])
      assert.ok(value(text, 'skiff_startup_phase_seconds', `phase="${phase}"`) > 0);

    const names = new Set(
      [...text.matchAll(/^# TYPE (\S+) /gm)]
        .map((m) => m[1] ?? '')
        .filter((n) => !/^(process|nodejs)_/.test(n)),
    );
    const doc = readFileSync(path.join(repoRoot(), 'docs', 'metrics.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|/gm)].map((m) => m[1] ?? ''));
    assert.deepEqual([...names].sort(), [...documented].sort());
  } finally {
    await server.close();
  }
});
