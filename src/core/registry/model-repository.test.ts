import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedModel } from '../model/runtime.js';
import type { ModelRepositoryOptions, RepositorySource } from './model-repository.js';
import { FakeImageCodec } from '../testing/fake-image-codec.js';
import { FakeRuntime } from '../testing/fake-runtime.js';
import { settle } from '../testing/deferred.js';
import { silentLogger } from '../logger.js';
import { InferenceService } from '../inference-service.js';
import { ModelRepository } from './model-repository.js';
import { testLimits } from '../testing/test-limits.js';

/** One model, "stuck", whose only version the runtime never finishes loading (like one stuck in native code). */
function stuckRepository(options: Partial<ModelRepositoryOptions> = {}): {
  repository: ModelRepository;
  runtime: FakeRuntime;
} {
  const source: RepositorySource = {
    listNames: () => Promise.resolve(['stuck']),
    read: (name) =>
      Promise.resolve({
        name,
        config: {},
        labels: undefined,
        versions: [{ version: '1', modelPath: `/models/${name}/model.onnx` }],
      }),
  };
  const service = new InferenceService(
    new FakeImageCodec({ width: 1, height: 1, pixels: Uint8Array.of(0, 0, 0) }),
    testLimits({ maxImagePixels: 1, maxTopK: 1, maxTensorElements: 1 }),
    { failedModelsBlockReadiness: false },
  );
  const runtime = new FakeRuntime(() => new Promise<LoadedModel>(() => undefined));
  const repository = new ModelRepository(source, service.models, runtime, {
    runtimeOptions: { workers: 1, threadsPerWorker: 1 },
    maxQueueSize: 1,
    logger: silentLogger,
    now: () => 0,
    ...options,
  });
  return { repository, runtime };
}

test('a load past loadTimeoutMs fails the model with the reason, the runtime told to stop', async () => {
  const { repository, runtime } = stuckRepository({ loadTimeoutMs: 30 });
  const message =
    'the model did not finish loading within 30 ms; if it is only slow, raise --model-load-timeout-ms';
  await assert.rejects(repository.load('stuck'), {
    code: 'SKIFF_MODEL_LOAD_FAILED',
    message: `model "stuck" could not be loaded: ${message}`,
  });
  assert.deepEqual(await repository.index(), [
    { name: 'stuck', version: '1', state: 'UNAVAILABLE', reason: message },
  ]);
  assert.equal(runtime.signals[0]?.aborted, true);
});

test('an unload does not wait for a load that may never end: it gives the load up', async () => {
  const { repository, runtime } = stuckRepository();
  const loading = repository.load('stuck');
  await settle();
  await repository.unload('stuck');
  await assert.rejects(loading, {
    code: 'SKIFF_MODEL_LOAD_FAILED',
    message: 'model "stuck" could not be loaded: the model was unloaded while it was loading',
  });
  assert.equal(runtime.signals[0]?.aborted, true);
  assert.deepEqual(await repository.index(), [{ name: 'stuck', state: 'UNAVAILABLE', reason: 'unloaded' }]);
});
