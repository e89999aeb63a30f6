import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfigFile } from './model/model-config.js';
import type { Prediction } from './model/classification.js';
import type { Tensor, TensorInfo } from './tensor/tensor.js';
import type { Respond } from './testing/fake-loaded-model.js';
import { FakeLoadedModel, answer } from './testing/fake-loaded-model.js';
import { FakeRuntime } from './testing/fake-runtime.js';
import { FakeImageCodec } from './testing/fake-image-codec.js';
import { deferred, settle } from './testing/deferred.js';
import { makeTensor } from './tensor/tensor.js';
import { labelsFromList } from './model/labels.js';
import { ServedModel } from './registry/served-model.js';
import { SkiffError } from './errors.js';
import { InferenceService } from './inference-service.js';
import { StartupRecorder } from './startup-recorder.js';
import { BACKGROUND } from './request/request-context.js';
import { testLimits } from './testing/test-limits.js';

const LIMITS = testLimits({ maxImagePixels: 1000, maxTopK: 10, maxTensorElements: 1000 });

const PIXELS = Uint8Array.of(10, 20, 30, /**/ 40, 50, 60, /**/ 70, 80, 90, /**/ 100, 110, 120);
const IMAGE_INPUTS: readonly TensorInfo[] = [{ name: 'input', type: 'FP32', shape: [-1, 3, 2, 2] }];
const IMAGE_OUTPUTS: readonly TensorInfo[] = [{ name: 'logits', type: 'FP32', shape: [-1, 4] }];
/** Identity preprocessing, so the tensor the model gets holds the pixel values. */
const IDENTITY: ModelConfigFile = { input: { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] } };
const LABELS = labelsFromList([
  'tench, Tinca tinca',
  'goldfish, Carassius auratus',
  'great white shark, white shark',
  'golden retriever',
]);
/** softmax(ln 1, ln 4, ln 2, ln 3) = 0.1, 0.4, 0.2, 0.3. */
const LOGITS = { logits: makeTensor('FP32', [1, 4], Float32Array.from([1, 4, 2, 3], Math.log)) };

function codec(): FakeImageCodec {
  return new FakeImageCodec({ width: 2, height: 2, pixels: PIXELS });
}

async function readyModel(
  name: string,
  respond: Respond = answer(LOGITS),
  inputs: readonly TensorInfo[] = IMAGE_INPUTS,
  outputs: readonly TensorInfo[] = IMAGE_OUTPUTS,
): Promise<{ served: ServedModel; fake: FakeLoadedModel }> {
  const fake = new FakeLoadedModel(inputs, outputs, respond);
  const served = new ServedModel({
    name,
    modelPath: `/models/${name}.onnx`,
    config: IDENTITY,
    labels: inputs === IMAGE_INPUTS ? LABELS : undefined,
    runtimeOptions: { workers: 1, threadsPerWorker: 1 },
    maxQueueSize: 8,
  });
  await served.load(new FakeRuntime(() => Promise.resolve(fake)), () => 0);
  assert.equal(served.state, 'ready');
  return { served, fake };
}

function unloadedModel(name: string): ServedModel {
  return new ServedModel({
    name,
    modelPath: `/models/${name}.onnx`,
    config: {},
    labels: undefined,
    runtimeOptions: { workers: 1, threadsPerWorker: 1 },
    maxQueueSize: 8,
  });
}

async function failedModel(name: string, message: string): Promise<ServedModel> {
  const served = unloadedModel(name);
  await served
    .load(new FakeRuntime(() => Promise.reject(new SkiffError('SKIFF_MODEL_CONTRACT', message))), () => 0)
    .catch(() => undefined);
  return served;
}

function assertPredictions(actual: readonly Prediction[], expected: readonly Prediction[]): void {
  assert.deepEqual(
    actual.map(({ index, label, fullLabel }) => ({ index, label, fullLabel })),
    expected.map(({ index, label, fullLabel }) => ({ index, label, fullLabel })),
  );
  actual.forEach((p, i) => {
    const want = expected[i]?.probability ?? NaN;
    assert.ok(Math.abs(p.probability - want) < 1e-6, `probability ${i}: ${p.probability} vs ${want}`);
  });
}

describe('InferenceService: health', () => {
  test('live always; not ready with no model, saying what start-up is doing', () => {
    const startup = new StartupRecorder(() => 0);
    const service = new InferenceService(codec(), LIMITS, { startup });
    assert.equal(service.live(), true);
    assert.equal(service.ready(), false);
    assert.equal(service.notReadyReason(), 'no model is loaded yet: starting');
    startup.doing('fetching the model');
    assert.equal(service.notReadyReason(), 'no model is loaded yet: fetching the model');
  });

  test('not ready while a model is loading or warming up; ready once it is', async () => {
    const service = new InferenceService(codec(), LIMITS);
    const loading = deferred<FakeLoadedModel>();
    const warmUp = deferred<Record<string, Tensor>>();
    const fake = new FakeLoadedModel(IMAGE_INPUTS, IMAGE_OUTPUTS, () => warmUp.promise);
    const served = unloadedModel('tiny');
    service.models.add(served);

    const loaded = served.load(new FakeRuntime(() => loading.promise), () => 0);
    assert.equal(service.ready(), false);
    assert.equal(service.notReadyReason(), 'model "tiny" is loading: loading the model');

    loading.resolve(fake);
    await settle();
    assert.equal(service.ready(), false);
    assert.equal(service.notReadyReason(), 'model "tiny" is warming up: running the warm-up inference');

    warmUp.resolve({});
    await loaded;
    assert.equal(service.ready(), true);
    assert.equal(service.notReadyReason(), undefined);
  });

  test('a failed model keeps the server not ready, with the load error as the reason', async () => {
    const service = new InferenceService(codec(), LIMITS);
    service.models.add((await readyModel('good')).served);
    service.models.add(await failedModel('bad', 'model.onnx is truncated'));
    assert.equal(service.ready(), false);
    assert.equal(service.notReadyReason(), 'model "bad" failed to load: model.onnx is truncated');
  });

  test('draining takes readiness away', async () => {
    const service = new InferenceService(codec(), LIMITS);
    service.models.add((await readyModel('tiny')).served);
    assert.equal(service.isDraining, false);
    service.startDraining();
    assert.equal(service.isDraining, true);
    assert.equal(service.ready(), false);
    assert.equal(service.notReadyReason(), 'the server is shutting down');
    assert.equal(service.live(), true);
  });
});

describe('InferenceService.model', () => {
  test('no name picks the only model', async () => {
    const service = new InferenceService(codec(), LIMITS);
    const { served } = await readyModel('tiny');
    service.models.add(served);
    assert.equal(service.model(undefined), served);
    assert.equal(service.model('tiny'), served);
    assert.deepEqual(service.list(), [served]);
  });

  test('no name with no model is SKIFF_MODEL_NOT_FOUND; with several it is SKIFF_BAD_PARAMETER', async () => {
    const service = new InferenceService(codec(), LIMITS);
    assert.throws(() => service.model(undefined), {
      code: 'SKIFF_MODEL_NOT_FOUND',
      message: 'no model is being served',
    });
    service.models.add((await readyModel('a')).served);
    service.models.add((await readyModel('b')).served);
    assert.throws(() => service.model(undefined), {
      code: 'SKIFF_BAD_PARAMETER',
      message: 'several models are served; name one (?model= on /predict, or the model in the path)',
    });
  });

  test('an unknown name is SKIFF_MODEL_NOT_FOUND, and the message does not list the served ones', async () => {
    const service = new InferenceService(codec(), LIMITS);
    service.models.add((await readyModel('a')).served);
    service.models.add((await readyModel('b')).served);
    assert.throws(() => service.model('c'), {
      name: 'SkiffError',
      code: 'SKIFF_MODEL_NOT_FOUND',
      kind: 'not_found',
      message: 'no model named "c"',
    });
  });
});

describe('InferenceService.classifyImage', () => {
  test('decodes at the model size, preprocesses, runs the model and returns the exact top-k', async () => {
    const images = codec();
    const service = new InferenceService(images, LIMITS);
    const { served, fake } = await readyModel('tiny');
    service.models.add(served);
    const bytes = Uint8Array.of(0xff, 0xd8, 0xff);

    const result = await service.classifyImage(BACKGROUND, undefined, bytes, 3);

    assert.equal(result.model, 'tiny');
    assertPredictions(result.predictions, [
      { index: 1, label: 'goldfish', fullLabel: 'goldfish, Carassius auratus', probability: 0.4 },
      { index: 3, label: 'golden_retriever', fullLabel: 'golden retriever', probability: 0.3 },
      { index: 2, label: 'great_white_shark', fullLabel: 'great white shark, white shark', probability: 0.2 },
    ]);
    assert.deepEqual(images.requests, [
      {
        bytes,
        header: { format: 'png', width: 2, height: 2, hasAlpha: false },
        width: 2,
        height: 2,
        resizeMode: 'shorter-side-then-center-crop',
        resizeShorterSide: 2,
        maxPixels: 1000,
      },
    ]);
    // Call 0 was the warm-up; call 1 is this request: NCHW planes of the pixels, only the classifier output asked for.
    const call = fake.calls[1];
    assert.ok(call);
    assert.deepEqual(call.outputNames, ['logits']);
    assert.deepEqual(call.inputs, {
      input: {
        type: 'FP32',
        shape: [1, 3, 2, 2],
        data: Float32Array.of(10, 40, 70, 100, 20, 50, 80, 110, 30, 60, 90, 120),
      },
    });
  });

  test('top_k = maxTopK is allowed and capped at the class count', async () => {
    const service = new InferenceService(codec(), LIMITS);
    service.models.add((await readyModel('tiny')).served);
    const result = await service.classifyImage(BACKGROUND, 'tiny', new Uint8Array(1), 10);
    assert.deepEqual(
      result.predictions.map((p) => p.index),
      [1, 3, 2, 0],
    );
  });

  test('top_k outside 1..maxTopK or not an integer is SKIFF_BAD_PARAMETER, checked before anything else', async () => {
    const images = codec();
    const service = new InferenceService(images, LIMITS);
    for (const k of [0, -1, 11, 1.5, NaN, Infinity]) {
      await assert.rejects(
        service.classifyImage(BACKGROUND, 'no-such-model', new Uint8Array(1), k),
        {
          name: 'SkiffError',
          code: 'SKIFF_BAD_PARAMETER',
          message: 'top_k must be an integer from 1 to 10',
        },
        `k = ${k}`,
      );
    }
    assert.equal(images.requests.length, 0);
  });

  test('an unknown model is SKIFF_MODEL_NOT_FOUND', async () => {
    const service = new InferenceService(codec(), LIMITS);
    service.models.add((await readyModel('tiny')).served);
    await assert.rejects(service.classifyImage(BACKGROUND, 'other', new Uint8Array(1), 1), {
      code: 'SKIFF_MODEL_NOT_FOUND',
    });
  });

  test('a model that does not take images is SKIFF_NOT_AN_IMAGE_MODEL, without decoding', async () => {
    const images = codec();
    const service = new InferenceService(images, LIMITS);
    const tabular = await readyModel(
      'table',
      answer({}),
      [{ name: 'features', type: 'FP32', shape: [-1, 4] }],
      [{ name: 'score', type: 'FP32', shape: [-1, 1] }],
    );
    service.models.add(tabular.served);
    await assert.rejects(service.classifyImage(BACKGROUND, 'table', new Uint8Array(1), 1), {
      code: 'SKIFF_NOT_AN_IMAGE_MODEL',
      kind: 'unsupported',
      message:
        'model "table" does not take images: the model has no 4-D image input (inputs: "features" FP32 [-1,4])',
    });
    assert.equal(images.requests.length, 0);
  });

  test('a model that is not ready is SKIFF_MODEL_NOT_READY, without decoding', async () => {
    const images = codec();
    const service = new InferenceService(images, LIMITS);
    service.models.add(unloadedModel('tiny'));
    await assert.rejects(service.classifyImage(BACKGROUND, undefined, new Uint8Array(1), 1), {
      code: 'SKIFF_MODEL_NOT_READY',
      kind: 'unavailable',
      message: 'model "tiny" is not ready (loading: loading the model)',
    });
    const failed = new InferenceService(images, LIMITS);
    failed.models.add(await failedModel('broken', 'bad file'));
    await assert.rejects(failed.classifyImage(BACKGROUND, 'broken', new Uint8Array(1), 1), {
      code: 'SKIFF_MODEL_NOT_READY',
      message: 'model "broken" is not ready (failed: bad file)',
    });
    assert.equal(images.requests.length, 0);
  });

  test('a model unloaded while the image was decoding is SKIFF_MODEL_NOT_READY, and the model is not called', async () => {
    const images = codec();
    const gate = deferred<undefined>();
    images.gate = gate.promise;
    const service = new InferenceService(images, LIMITS);
    const { served, fake } = await readyModel('tiny');
    service.models.add(served);
    const result = service.classifyImage(BACKGROUND, 'tiny', new Uint8Array(1), 1);
    await settle();
    await served.unload();
    gate.resolve(undefined);
    await assert.rejects(result, {
      code: 'SKIFF_MODEL_NOT_READY',
      message: 'model "tiny" is not ready (unloading: unloading)',
    });
    assert.equal(fake.calls.length, 1, 'only the warm-up');
  });

  test('requests still arriving while draining are served', async () => {
    const service = new InferenceService(codec(), LIMITS);
    service.models.add((await readyModel('tiny')).served);
    service.startDraining();
    const result = await service.classifyImage(BACKGROUND, undefined, new Uint8Array(1), 1);
    assert.equal(result.predictions[0]?.label, 'goldfish');
  });

  test('a decode error reaches the caller unchanged', async () => {
    const images = codec();
    const error = new SkiffError('SKIFF_UNDECODABLE_IMAGE', 'not an image');
    images.error = error;
    const service = new InferenceService(images, LIMITS);
    service.models.add((await readyModel('tiny')).served);
    await assert.rejects(
      service.classifyImage(BACKGROUND, undefined, new Uint8Array(1), 1),
      (thrown: unknown) => thrown === error,
    );
  });

  test('a model that does not return the classifier output is SKIFF_INFERENCE_FAILED', async () => {
    const service = new InferenceService(codec(), LIMITS);
    service.models.add((await readyModel('tiny', answer({ other: LOGITS.logits }))).served);
    await assert.rejects(service.classifyImage(BACKGROUND, undefined, new Uint8Array(1), 1), {
      code: 'SKIFF_INFERENCE_FAILED',
      message: 'the model returned no output "logits"',
    });
  });
});

describe('InferenceService.inferTensors', () => {
  test('passes tensors and output names to the named ready model', async () => {
    const service = new InferenceService(codec(), LIMITS);
    const { served, fake } = await readyModel('tiny');
    service.models.add(served);
    const x = makeTensor('FP32', [1, 3, 2, 2], new Float32Array(12));
    assert.deepEqual(
      (
        await service.inferTensors(BACKGROUND, {
          model: 'tiny',
          inputs: { input: x },
          outputs: [{ name: 'logits' }],
        })
      ).outputs.map((o) => o.tensor)[0],
      LOGITS.logits,
    );
    assert.equal(fake.calls[1]?.inputs.input, x);
    assert.deepEqual(fake.calls[1].outputNames, ['logits']);
  });

  test('an unknown model is SKIFF_MODEL_NOT_FOUND; a model not ready is SKIFF_MODEL_NOT_READY', async () => {
    const service = new InferenceService(codec(), LIMITS);
    service.models.add(unloadedModel('tiny'));
    await assert.rejects(service.inferTensors(BACKGROUND, { model: 'nope', inputs: {} }), {
      code: 'SKIFF_MODEL_NOT_FOUND',
    });
    await assert.rejects(service.inferTensors(BACKGROUND, { model: 'tiny', inputs: {} }), {
      code: 'SKIFF_MODEL_NOT_READY',
    });
  });
});
