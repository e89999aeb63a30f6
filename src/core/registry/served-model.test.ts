import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedModel } from '../model/runtime.js';
import type { ModelConfigFile } from '../model/model-config.js';
import type { Tensor, TensorInfo } from '../tensor/tensor.js';
import type { ServedModelSpec } from './served-model.js';
import { FakeLoadedModel, Held, echo, fail } from '../testing/fake-loaded-model.js';
import { FakeRuntime } from '../testing/fake-runtime.js';
import { deferred, settle } from '../testing/deferred.js';
import { makeTensor } from '../tensor/tensor.js';
import { labelsFromList } from '../model/labels.js';
import { SkiffError } from '../errors.js';
import { ServedModel } from './served-model.js';
import { BACKGROUND } from '../request/request-context.js';

const IMAGE_INPUTS: readonly TensorInfo[] = [{ name: 'input', type: 'FP32', shape: [-1, 3, 2, 2] }];
const IMAGE_OUTPUTS: readonly TensorInfo[] = [{ name: 'logits', type: 'FP32', shape: [-1, 3] }];

function spec(overrides: Partial<ServedModelSpec> = {}): ServedModelSpec {
  return {
    name: 'tiny',
    modelPath: '/models/tiny/model.onnx',
    config: {},
    labels: labelsFromList(['tench', 'goldfish', 'golden retriever']),
    runtimeOptions: { workers: 2, threadsPerWorker: 1 },
    maxQueueSize: 4,
    ...overrides,
  };
}

/** A clock that returns the given instants in turn. */
function clock(...instants: number[]): () => number {
  let i = 0;
  return () => instants[Math.min(i++, instants.length - 1)] ?? 0;
}

const runtimeFor = (model: LoadedModel): FakeRuntime => new FakeRuntime(() => Promise.resolve(model));

describe('ServedModel.load', () => {
  test('goes loading -> warming-up -> ready, with one warm-up inference per worker', async () => {
    const loading = deferred<LoadedModel>();
    const runtime = new FakeRuntime(() => loading.promise);
    const held = new Held();
    const fake = new FakeLoadedModel(IMAGE_INPUTS, IMAGE_OUTPUTS, held.respond);
    const served = new ServedModel(spec());

    assert.deepEqual([served.state, served.reason], ['loading', 'loading the model']);
    const loaded = served.load(runtime, clock(100, 130, 140, 190));
    await settle();
    assert.deepEqual([served.state, served.reason], ['loading', 'loading the model']);
    assert.deepEqual(runtime.loads, [
      { modelPath: '/models/tiny/model.onnx', options: { workers: 2, threadsPerWorker: 1 } },
    ]);

    loading.resolve(fake);
    await settle();
    assert.deepEqual([served.state, served.reason], ['warming-up', 'running the warm-up inference']);
    assert.equal(fake.calls.length, 2, 'one warm-up per worker');
    assert.equal(fake.maxActive, 2, 'the warm-ups run at the same time, one on each worker');

    held.finish(0, {});
    await settle();
    assert.equal(served.state, 'warming-up', 'ready only after every warm-up finished');
    held.finish(1, {});
    await loaded;
    assert.deepEqual([served.state, served.reason], ['ready', 'ready']);
    assert.deepEqual(served.timings, { sessionCreateMs: 30, warmUpMs: 50 });
    assert.equal(fake.calls.length, 2);
  });

  test('a model the runtime warmed while loading runs no warm-up of its own, and is ready at once', async () => {
    const fake = new FakeLoadedModel(IMAGE_INPUTS, IMAGE_OUTPUTS, echo);
    fake.warmedUp = true;
    const served = new ServedModel(spec());
    await served.load(runtimeFor(fake), clock(100, 130, 130));
    assert.deepEqual([served.state, fake.calls.length], ['ready', 0]);
    assert.deepEqual(served.timings, { sessionCreateMs: 30, warmUpMs: 0 });

    // The runtime's own measure is kept beside what load() waited (preloading overlaps the two).
    const measured = new FakeLoadedModel(IMAGE_INPUTS, IMAGE_OUTPUTS, echo);
    Object.assign(measured, { warmedUp: true, loadTimings: { sessionCreateMs: 400, warmUpMs: 60 } });
    const preloaded = new ServedModel(spec());
    await preloaded.load(runtimeFor(measured), clock(100, 105, 105));
    assert.deepEqual(preloaded.timings, {
      sessionCreateMs: 5,
      warmUpMs: 0,
      inRuntime: { sessionCreateMs: 400, warmUpMs: 60 },
    });

    const cold = new FakeLoadedModel(IMAGE_INPUTS, IMAGE_OUTPUTS, echo);
    await new ServedModel(spec()).load(runtimeFor(cold), clock(0));
    assert.equal(cold.calls.length, 2, 'not warmed by the runtime: one warm-up per worker');
  });

  test('an image model is warmed up with one black image, preprocessed as the contract says', async () => {
    const fake = new FakeLoadedModel(IMAGE_INPUTS, IMAGE_OUTPUTS, echo);
    const served = new ServedModel(spec({ runtimeOptions: { workers: 1, threadsPerWorker: 1 } }));
    await served.load(runtimeFor(fake), clock(0));
    assert.equal(fake.calls.length, 1);
    const input = fake.calls[0]?.inputs.input;
    assert.ok(input);
    assert.equal(input.type, 'FP32');
    assert.deepEqual(input.shape, [1, 3, 2, 2]);
    // Pixel 0 through the ImageNet recipe: (0 - mean[c]) / std[c].
    const expected = [0.485 / 0.229, 0.456 / 0.224, 0.406 / 0.225].flatMap((v) =>
      [v, v, v, v].map((x) => Math.fround(-x)),
    );
    assert.deepEqual([...(input.data as Float32Array)], expected);
  });

  test('the image contract is resolved from the loaded model, config and labels', async () => {
    const served = new ServedModel(spec({ config: { input: { colorOrder: 'BGR' } } }));
    await served.load(runtimeFor(new FakeLoadedModel(IMAGE_INPUTS, IMAGE_OUTPUTS)), clock(0));
    assert.ok(served.classifier.ok);
    assert.equal(served.classifier.contract.input.colorOrder, 'BGR');
    assert.deepEqual(served.classifier.contract.output, {
      name: 'logits',
      kind: 'logits',
      backgroundClass: false,
      classCount: 3,
    });
    assert.deepEqual(served.classifier.contract.labels?.short, ['tench', 'goldfish', 'golden_retriever']);
    assert.equal(served.inputs, IMAGE_INPUTS);
    assert.equal(served.outputs, IMAGE_OUTPUTS);
  });

  test('a model that is not an image classifier is warmed up with zero tensors, dynamic dims as 1', async () => {
    const inputs: readonly TensorInfo[] = [
      { name: 'features', type: 'FP32', shape: [-1, 4] },
      { name: 'ids', type: 'INT64', shape: [-1, 2] },
      { name: 'mask', type: 'BOOL', shape: [3] },
    ];
    const fake = new FakeLoadedModel(inputs, [{ name: 'score', type: 'FP32', shape: [-1, 1] }]);
    const served = new ServedModel(
      spec({ labels: undefined, runtimeOptions: { workers: 1, threadsPerWorker: 1 } }),
    );
    await served.load(runtimeFor(fake), clock(0));
    assert.equal(served.state, 'ready');
    assert.deepEqual(served.classifier, {
      ok: false,
      reason:
        'the model has no 4-D image input (inputs: "features" FP32 [-1,4], "ids" INT64 [-1,2], "mask" BOOL [3])',
    });
    const warm = fake.calls[0]?.inputs ?? {};
    assert.deepEqual(Object.keys(warm), ['features', 'ids', 'mask']);
    assert.deepEqual(warm.features, { type: 'FP32', shape: [1, 4], data: new Float32Array(4) });
    assert.deepEqual(warm.ids, { type: 'INT64', shape: [1, 2], data: new BigInt64Array(2) });
    assert.deepEqual(warm.mask, { type: 'BOOL', shape: [3], data: new Uint8Array(3) });
  });

  test('a runtime load failure: state failed with the reason, and the same error rethrown', async () => {
    const error = new SkiffError('SKIFF_MODEL_LOAD_FAILED', 'model.onnx is not an ONNX model');
    const served = new ServedModel(spec());
    await assert.rejects(
      served.load(new FakeRuntime(() => Promise.reject(error)), clock(0)),
      (thrown: unknown) => thrown === error,
    );
    assert.deepEqual(
      [served.state, served.reason],
      [
        'failed',
        'it did not load: not a model ONNX Runtime can run, an operator it lacks, or a load that did not finish [SKIFF_MODEL_LOAD_FAILED]; the server log has the details',
      ],
    );
    assert.equal((served.failure as Error).message, 'model.onnx is not an ONNX model');
    assert.deepEqual(served.inputs, []);
    assert.equal(served.timings, undefined);
  });

  test('a contract failure: state failed, the loaded model is closed, the SKIFF_MODEL_CONTRACT error rethrown', async () => {
    const fake = new FakeLoadedModel(IMAGE_INPUTS, IMAGE_OUTPUTS);
    const config: ModelConfigFile = { input: { dtype: 'uint8' } };
    const served = new ServedModel(spec({ config }));
    await assert.rejects(served.load(runtimeFor(fake), clock(0)), {
      code: 'SKIFF_MODEL_CONTRACT',
      message: 'model.json says input dtype uint8 but the model\'s input "input" is float32',
    });
    assert.equal(served.state, 'failed');
    assert.equal(
      served.reason,
      'model.json says input dtype uint8 but the model\'s input "input" is float32',
    );
    assert.equal(fake.closeCount, 1);
    assert.equal(fake.calls.length, 0, 'no warm-up for a model that failed its contract');
    assert.deepEqual(served.inputs, []);
  });

  test('a warm-up failure: state failed with the reason, the model closed, the error rethrown', async () => {
    const fake = new FakeLoadedModel(
      IMAGE_INPUTS,
      IMAGE_OUTPUTS,
      fail(new SkiffError('SKIFF_INFERENCE_FAILED', 'kernel exploded')),
    );
    const served = new ServedModel(spec());
    await assert.rejects(served.load(runtimeFor(fake), clock(0)), {
      code: 'SKIFF_INFERENCE_FAILED',
      message: 'kernel exploded',
    });
    assert.deepEqual(
      [served.state, served.reason],
      ['failed', 'its warm-up inference failed [SKIFF_INFERENCE_FAILED]; the server log has the details'],
    );
    assert.equal((served.failure as Error).message, 'kernel exploded');
    assert.equal(fake.closeCount, 1);
  });
});

describe('ServedModel.load: a load that does not finish', () => {
  test('past loadTimeoutMs: failed with SKIFF_MODEL_LOAD_FAILED, the runtime told to stop, a late model closed', async () => {
    const loading = deferred<LoadedModel>();
    const runtime = new FakeRuntime(() => loading.promise);
    const served = new ServedModel(spec({ loadTimeoutMs: 20 }));
    const message =
      'the model did not finish loading within 20 ms; if it is only slow, raise --model-load-timeout-ms';
    await assert.rejects(served.load(runtime, clock(0)), { code: 'SKIFF_MODEL_LOAD_FAILED', message });
    assert.deepEqual([served.state, served.reason], ['failed', message]);
    assert.equal(runtime.signals[0]?.aborted, true);
    const late = new FakeLoadedModel(IMAGE_INPUTS, IMAGE_OUTPUTS);
    loading.resolve(late);
    await settle();
    assert.equal(late.closeCount, 1, 'what the runtime hands over after the timeout is released');
    assert.deepEqual([served.state, served.inputs], ['failed', []]);
  });

  test('a warm-up that never ends counts too: failed, and the model closed without waiting for it', async () => {
    const held = new Held();
    const fake = new FakeLoadedModel(IMAGE_INPUTS, IMAGE_OUTPUTS, held.respond);
    const served = new ServedModel(spec({ loadTimeoutMs: 20 }));
    await assert.rejects(served.load(runtimeFor(fake), clock(0)), { code: 'SKIFF_MODEL_LOAD_FAILED' });
    assert.equal(served.state, 'failed');
    assert.equal(fake.closeCount, 1);
    held.finish(0, {});
    held.finish(1, {});
    await settle();
    assert.equal(served.state, 'failed', 'warm-ups that end late change nothing');
  });

  test("the caller's signal and unload() stop a load at once, with their reasons", async () => {
    const never = new FakeRuntime(() => new Promise<LoadedModel>(() => undefined));
    const abort = new AbortController();
    const first = new ServedModel(spec());
    const aborted = first.load(never, clock(0), abort.signal);
    const reason = new SkiffError('SKIFF_SHUTTING_DOWN', 'the server is shutting down');
    abort.abort(reason);
    await assert.rejects(aborted, (thrown: unknown) => thrown === reason);
    assert.deepEqual([first.state, first.reason], ['failed', 'the server is shutting down']);

    const second = new ServedModel(spec());
    const unloaded = second.load(never, clock(0));
    await second.unload();
    await assert.rejects(unloaded, {
      code: 'SKIFF_MODEL_LOAD_FAILED',
      message: 'the model was unloaded while it was loading',
    });
    assert.equal(never.signals[1]?.aborted, true);
  });
});

describe('ServedModel.infer and unload', () => {
  test('infer before load rejects', async () => {
    const served = new ServedModel(spec());
    await assert.rejects(served.infer({}, undefined, BACKGROUND), { code: 'SKIFF_MODEL_NOT_READY' });
  });

  test('infer goes through the scheduler to the model', async () => {
    const held = new Held();
    const fake = new FakeLoadedModel(IMAGE_INPUTS, IMAGE_OUTPUTS, echo);
    const served = new ServedModel(
      spec({ runtimeOptions: { workers: 1, threadsPerWorker: 1 }, maxQueueSize: 1 }),
    );
    await served.load(runtimeFor(fake), clock(0));
    fake.respond = held.respond;
    const x: Tensor = makeTensor('FP32', [1], Float32Array.of(1));
    const first = served.infer({ x }, ['y'], BACKGROUND);
    const second = served.infer({ x }, undefined, BACKGROUND);
    await settle();
    assert.deepEqual(served.queueDepth, { inFlight: 1, queued: 1 });
    await assert.rejects(served.infer({ x }, undefined, BACKGROUND), { code: 'SKIFF_QUEUE_FULL' });
    assert.deepEqual(fake.calls[1]?.outputNames, ['y']);
    held.finish(0, { y: x });
    await settle();
    held.finish(1, {});
    assert.deepEqual(await first, { y: x });
    assert.deepEqual(await second, {});
    assert.deepEqual(served.queueDepth, { inFlight: 0, queued: 0 });
  });

  test("model.json's batching.maxQueueSize overrides the server's --max-queue-size for this model", async () => {
    const held = new Held();
    const fake = new FakeLoadedModel(IMAGE_INPUTS, IMAGE_OUTPUTS, echo);
    const served = new ServedModel(
      spec({
        runtimeOptions: { workers: 1, threadsPerWorker: 1 },
        maxQueueSize: 100,
        config: { batching: { maxQueueSize: 0 } },
      }),
    );
    await served.load(runtimeFor(fake), clock(0));
    fake.respond = held.respond;
    const x: Tensor = makeTensor('FP32', [1], Float32Array.of(1));
    const first = served.infer({ x }, undefined, BACKGROUND);
    await settle();
    assert.throws(() => served.reserve(), {
      code: 'SKIFF_QUEUE_FULL',
      message: "the model's queue is full (0 requests waiting); retry later",
    });
    await assert.rejects(served.infer({ x }, undefined, BACKGROUND), { code: 'SKIFF_QUEUE_FULL' });
    held.finish(0, { y: x });
    assert.deepEqual(await first, { y: x });
  });

  test('unload: state unloading, queued requests fail with SKIFF_SHUTTING_DOWN, the model is closed', async () => {
    const held = new Held();
    const fake = new FakeLoadedModel(IMAGE_INPUTS, IMAGE_OUTPUTS, echo);
    const served = new ServedModel(spec({ runtimeOptions: { workers: 1, threadsPerWorker: 1 } }));
    await served.load(runtimeFor(fake), clock(0));
    fake.respond = held.respond;
    const running = served.infer({}, undefined, BACKGROUND);
    const queued = served.infer({}, undefined, BACKGROUND);
    await settle();
    await served.unload();
    assert.deepEqual([served.state, served.reason], ['unloading', 'unloading']);
    assert.equal(fake.closeCount, 1);
    await assert.rejects(queued, { code: 'SKIFF_SHUTTING_DOWN' });
    await assert.rejects(served.infer({}, undefined, BACKGROUND), { code: 'SKIFF_SHUTTING_DOWN' });
    held.finish(0, {});
    assert.deepEqual(await running, {});
  });
});
