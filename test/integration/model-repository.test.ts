// `--model-repository`: several models at once, versions by policy, explicit load/unload that leaves the
// other models untouched, a broken model reported by its own ready endpoint, and the API switched off by default.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunningServer } from '../../src/server.js';
import { IMAGENET_LABELS, defaultModel, fixtureModel, testImage } from '../helpers/paths.js';
import { postImage, startTestServer } from '../helpers/test-server.js';

function makeRepository(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'skiff-repo-'));
  const put = (from: string, ...to: string[]): void => {
    mkdirSync(path.join(root, ...to.slice(0, -1)), { recursive: true });
    copyFileSync(from, path.join(root, ...to));
  };
  put(fixtureModel('tabular-linear/model.onnx'), 'linear', '1', 'model.onnx');
  put(fixtureModel('tabular-linear/model.onnx'), 'linear', '2', 'model.onnx');
  writeFileSync(path.join(root, 'linear', 'model.json'), JSON.stringify({ versionPolicy: { all: true } }));
  put(fixtureModel('tabular-linear/model.onnx'), 'latest-only', '3', 'model.onnx');
  put(fixtureModel('tabular-linear/model.onnx'), 'latest-only', '10', 'model.onnx');
  put(fixtureModel('tiny-color/model.onnx'), 'color', 'model.onnx');
  put(fixtureModel('tiny-color/labels.txt'), 'color', 'labels.txt');
  put(defaultModel(), 'imagenet', 'model.onnx');
  put(IMAGENET_LABELS(), 'imagenet', 'labels.txt');
  put(fixtureModel('broken/model.onnx'), 'broken', 'model.onnx');
  return root;
}

const post = async (url: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
  const response = await fetch(url, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
};
const score = (url: string): Promise<{ status: number; json: unknown }> =>
  post(url, { inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 4], data: [1, 1, 1, 1] }] });

describe('a model repository', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({
      model: 'unused',
      modelRepository: makeRepository(),
      repositoryApi: true,
    });
  });
  after(async () => {
    await server.close();
  });

  test('serves every model; the broken one is reported by its ready endpoint and keeps the server unready', async () => {
    // Strict readiness by default (OIP and Triton: ready means every model is); the lenient reading is
    // --no-strict-readiness (test/integration/conformance-rest.test.ts).
    const health = await fetch(`${server.url}/v2/health/ready`);
    assert.equal(health.status, 400);
    assert.match(((await health.json()) as { error: string }).error, /^model "broken" failed to load: /);
    for (const name of ['linear', 'latest-only', 'color', 'imagenet'])
      assert.equal((await fetch(`${server.url}/v2/models/${name}/ready`)).status, 200, name);
    const broken = await fetch(`${server.url}/v2/models/broken/ready`);
    assert.equal(broken.status, 400);
    const reason = ((await broken.json()) as { error: string }).error;
    assert.match(
      reason,
      /^model "broken" failed to load: it did not load: not a model ONNX Runtime can run.* \[SKIFF_MODEL_LOAD_FAILED\]; the server log has the details$/,
    );
    assert.doesNotMatch(reason, /\/tmp\//, 'no server paths in answers');
  });

  test('the index lists each model and version with its state', async () => {
    const { status, json } = await post(`${server.url}/v2/repository/index`);
    assert.equal(status, 200);
    const rows = (json as { name: string; version?: string; state: string }[]).map(
      (r) => `${r.name}:${r.version ?? '-'}:${r.state}`,
    );
    assert.deepEqual(rows, [
      'broken:1:UNAVAILABLE',
      'color:1:READY',
      'imagenet:1:READY',
      'latest-only:10:READY',
      'linear:2:READY',
      'linear:1:READY',
    ]);
  });

  test('version policy: all versions of "linear", only the newest (10, not 3) of "latest-only"', async () => {
    const metadata = (await (await fetch(`${server.url}/v2/models/linear`)).json()) as { versions: string[] };
    assert.deepEqual(metadata.versions, ['2', '1']);
    for (const version of ['1', '2'])
      assert.equal((await score(`${server.url}/v2/models/linear/versions/${version}/infer`)).status, 200);
    const latest = await score(`${server.url}/v2/models/latest-only/infer`);
    assert.equal((latest.json as { model_version: string }).model_version, '10');
    assert.equal((await score(`${server.url}/v2/models/latest-only/versions/3/infer`)).status, 404);
  });

  test('each model answers its own protocol: tensors, tabular JSON, images', async () => {
    assert.deepEqual((await post(`${server.url}/predict?model=linear`, { X: [1, 1, 1, 1] })).json, {
      score: 10.5,
    });
    const photo = await postImage(
      `${server.url}/predict?model=imagenet&top_k=1`,
      readFileSync(testImage('hotdog.jpg')),
    );
    assert.equal(
      ((await photo.json()) as { predictions: { label: string }[] }).predictions[0]?.label,
      'hotdog',
    );
    const noName = await postImage(`${server.url}/predict`, readFileSync(testImage('hotdog.jpg')));
    assert.equal(noName.status, 400);
    assert.match(
      ((await noName.json()) as { error: string }).error,
      /several models are served; name one \(\?model= on \/predict, or the model in the path\)/,
    );
  });

  test('unload and load one model while another is under load: no request to the other fails', async () => {
    let stop = false;
    let served = 0;
    const failures: unknown[] = [];
    const loop = async (): Promise<void> => {
      while (!stop) {
        const { status, json } = await score(`${server.url}/v2/models/linear/infer`);
        if (status === 200) served++;
        else failures.push(json);
      }
    };
    const clients = [loop(), loop(), loop()];
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(await post(`${server.url}/v2/repository/models/color/unload`), {
        status: 200,
        json: { name: 'color', unload: true },
      });
      // Not ready rather than unknown, as Triton answers an unloaded model.
      const gone = await fetch(`${server.url}/v2/models/color/ready`);
      assert.equal(gone.status, 400);
      assert.deepEqual(await post(`${server.url}/v2/repository/models/color/load`), {
        status: 200,
        json: { name: 'color', load: true },
      });
      assert.equal((await fetch(`${server.url}/v2/models/color/ready`)).status, 200);
    }
    // Reloading a model that is itself being called keeps its old version serving until the new one is ready.
    assert.deepEqual(await post(`${server.url}/v2/repository/models/linear/load`), {
      status: 200,
      json: { name: 'linear', load: true },
    });
    stop = true;
    await Promise.all(clients);
    assert.deepEqual(failures, []);
    assert.ok(served > 10, `only ${served} requests were served`);
  });

  test('load and unload errors: unknown model 404, invalid name (path traversal) 404, broken model 400 with the reason', async () => {
    const unknown = await post(`${server.url}/v2/repository/models/nope/load`);
    assert.equal(unknown.status, 404);
    assert.match((unknown.json as { error: string }).error, /no model named "nope" in the repository/);
    for (const name of ['..%2F..%2Fetc', '.hidden', '..']) {
      const traversal = await post(`${server.url}/v2/repository/models/${name}/load`);
      assert.equal(traversal.status, 404, name);
    }
    const broken = await post(`${server.url}/v2/repository/models/broken/load`);
    assert.equal(broken.status, 400);
    assert.match((broken.json as { error: string }).error, /could not be loaded/);
    assert.equal((await post(`${server.url}/v2/repository/models/nope/unload`)).status, 404);
  });
});

test('the repository API is off unless --repository-api; a single-model server has no repository', async () => {
  const repo = await startTestServer({ model: 'unused', modelRepository: makeRepository() });
  const single = await startTestServer({ model: fixtureModel('tabular-linear/model.onnx') });
  try {
    const off = await post(`${repo.url}/v2/repository/models/color/unload`);
    assert.equal(off.status, 403);
    assert.match(
      (off.json as { error: string }).error,
      /repository API is disabled; start the server with --repository-api/,
    );
    assert.equal((await post(`${repo.url}/v2/repository/index`)).status, 403);
    assert.equal((await fetch(`${repo.url}/v2/models/color/ready`)).status, 200);
    const none = await post(`${single.url}/v2/repository/index`);
    assert.equal(none.status, 501);
    assert.match((none.json as { error: string }).error, /start it with --model-repository/);
  } finally {
    await Promise.all([repo.close(), single.close()]);
  }
});
