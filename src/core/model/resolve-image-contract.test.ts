import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TensorInfo } from '../tensor/tensor.js';
import type { ModelConfigFile } from './model-config.js';
import type { ContractResolution, ImageClassifierContract } from './resolve-image-contract.js';
import type { Labels } from './labels.js';
import { IMAGENET_MEAN, IMAGENET_STD, resolveImageContract } from './resolve-image-contract.js';
import { labelsFromList } from './labels.js';

// TensorInfo lists as the real MobileNet and SqueezeNet ONNX files report them (written out here: no file is read).
const MOBILENET_IMAGENET = {
  inputs: [{ name: 'input', type: 'FP32', shape: [-1, 3, 224, 224] }],
  outputs: [{ name: 'logits', type: 'FP32', shape: [-1, 1000] }],
} as const satisfies { inputs: TensorInfo[]; outputs: TensorInfo[] };

const MOBILENET_NATIVE = {
  inputs: [{ name: 'input', type: 'UINT8', shape: [-1, 224, 224, 3] }],
  outputs: [
    { name: 'logits', type: 'FP32', shape: [-1, 1001] },
    { name: 'probabilities', type: 'FP32', shape: [-1, 1001] },
  ],
} as const satisfies { inputs: TensorInfo[]; outputs: TensorInfo[] };

const SQUEEZENET_FP16 = {
  inputs: [{ name: 'data_0', type: 'FP16', shape: [1, 3, 224, 224] }],
  outputs: [{ name: 'softmaxout_1', type: 'FP16', shape: [1, 1000, 1, 1] }],
} as const satisfies { inputs: TensorInfo[]; outputs: TensorInfo[] };

const TABULAR = {
  inputs: [{ name: 'features', type: 'FP32', shape: [-1, 4] }],
  outputs: [{ name: 'score', type: 'FP32', shape: [-1, 1] }],
} as const satisfies { inputs: TensorInfo[]; outputs: TensorInfo[] };

const CLASSES_1000 = Array.from({ length: 1000 }, (_, i) => `class ${i}, synonym ${i}`);
const LABELS_1000 = labelsFromList(CLASSES_1000);
const LABELS_1001 = labelsFromList(['background', ...CLASSES_1000]);

function resolve(
  model: { readonly inputs: readonly TensorInfo[]; readonly outputs: readonly TensorInfo[] },
  config: ModelConfigFile = {},
  labels?: Labels,
): ContractResolution {
  return resolveImageContract(model.inputs, model.outputs, config, labels);
}

function contractOf(resolution: ContractResolution): ImageClassifierContract {
  if (!resolution.ok) assert.fail(`expected an image contract, got: ${resolution.reason}`);
  return resolution.contract;
}

function withImageShape(shape: readonly number[], type: TensorInfo['type'] = 'FP32') {
  return { inputs: [{ name: 'input', type, shape }], outputs: MOBILENET_IMAGENET.outputs };
}

describe('resolveImageContract: defaults from the model file', () => {
  test('mobilenet _imagenet: float32 NCHW, ImageNet recipe, resize 256 then crop 224, logits', () => {
    const contract = contractOf(resolve(MOBILENET_IMAGENET, {}, LABELS_1000));
    assert.deepEqual(contract.input, {
      name: 'input',
      layout: 'NCHW',
      dtype: 'float32',
      colorOrder: 'RGB',
      height: 224,
      width: 224,
      resizeMode: 'shorter-side-then-center-crop',
      resizeShorterSide: 256,
      scale: 1 / 255,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });
    assert.deepEqual(contract.output, {
      name: 'logits',
      kind: 'logits',
      backgroundClass: false,
      classCount: 1000,
    });
    assert.deepEqual(contract.labels, LABELS_1000);
    assert.deepEqual(IMAGENET_MEAN, [0.485, 0.456, 0.406]);
    assert.deepEqual(IMAGENET_STD, [0.229, 0.224, 0.225]);
  });

  test('mobilenet _native: uint8 NHWC, raw 0..255 pixels, the logits output of two', () => {
    const contract = contractOf(resolve(MOBILENET_NATIVE, {}, LABELS_1001));
    assert.deepEqual(contract.input, {
      name: 'input',
      layout: 'NHWC',
      dtype: 'uint8',
      colorOrder: 'RGB',
      height: 224,
      width: 224,
      resizeMode: 'shorter-side-then-center-crop',
      resizeShorterSide: 256,
      scale: 1,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    });
    assert.deepEqual(contract.output, {
      name: 'logits',
      kind: 'logits',
      backgroundClass: true,
      classCount: 1001,
    });
  });

  test('SqueezeNet fp16: float16 NCHW with a fixed batch of 1, softmax output read as probabilities', () => {
    const contract = contractOf(resolve(SQUEEZENET_FP16, {}, LABELS_1000));
    assert.equal(contract.input.name, 'data_0');
    assert.equal(contract.input.dtype, 'float16');
    assert.equal(contract.input.layout, 'NCHW');
    assert.equal(contract.input.scale, 1 / 255);
    assert.deepEqual(contract.input.mean, IMAGENET_MEAN);
    assert.deepEqual(contract.output, {
      name: 'softmaxout_1',
      kind: 'probabilities',
      backgroundClass: false,
      classCount: 1000,
    });
  });

  test('resizeShorterSide defaults to round(side / 0.875): 224 -> 256, 128 -> 146, 160 -> 183, 192 -> 219', () => {
    for (const [side, resize] of [
      [224, 256],
      [128, 146],
      [160, 183],
      [192, 219],
    ] as const) {
      const contract = contractOf(resolve(withImageShape([-1, 3, side, side])));
      assert.deepEqual(
        [contract.input.height, contract.input.width, contract.input.resizeShorterSide],
        [side, side, resize],
      );
    }
  });

  test('a non-square size from model.json: height first, resize from the shorter side', () => {
    const contract = contractOf(resolve(withImageShape([-1, 3, -1, -1]), { input: { size: [200, 300] } }));
    assert.deepEqual(
      [contract.input.height, contract.input.width, contract.input.resizeShorterSide],
      [200, 300, 229],
    );
  });

  test('no labels: labels undefined and no background guessed, even with 1001 outputs', () => {
    const contract = contractOf(resolve(MOBILENET_NATIVE));
    assert.equal(contract.labels, undefined);
    assert.equal(contract.output.backgroundClass, false);
    assert.equal(contract.output.classCount, 1001);
  });
});

describe('resolveImageContract: guessing', () => {
  test('layout: channels of 3 at dim 1 is NCHW, at dim 3 is NHWC', () => {
    assert.equal(contractOf(resolve(withImageShape([1, 3, 32, 32]))).input.layout, 'NCHW');
    assert.equal(contractOf(resolve(withImageShape([1, 32, 32, 3]))).input.layout, 'NHWC');
  });

  test('layout that cannot be told (one channel) is SKIFF_MODEL_CONTRACT asking for input.layout', () => {
    assert.throws(() => resolve(withImageShape([-1, 1, 28, 28])), {
      name: 'SkiffError',
      code: 'SKIFF_MODEL_CONTRACT',
      message: 'cannot tell the layout of input "input" [-1,1,28,28]; set "input.layout" in model.json',
    });
  });

  test('background: 1001 labels starting with "background" on 1001 outputs; the label is dropped', () => {
    const contract = contractOf(resolve(MOBILENET_NATIVE, {}, LABELS_1001));
    assert.equal(contract.output.backgroundClass, true);
    assert.equal(contract.labels?.full.length, 1000);
    assert.equal(contract.labels.full[0], 'class 0, synonym 0');
    assert.equal(contract.labels.short[999], 'class_999');
  });

  test('background: "Background" matches case-insensitively', () => {
    const labels = labelsFromList(['Background', ...CLASSES_1000]);
    assert.equal(contractOf(resolve(MOBILENET_NATIVE, {}, labels)).output.backgroundClass, true);
  });

  test('background: 1000 labels on 1001 outputs; the labels are used as they are', () => {
    const contract = contractOf(resolve(MOBILENET_NATIVE, {}, LABELS_1000));
    assert.equal(contract.output.backgroundClass, true);
    assert.deepEqual(contract.labels, LABELS_1000);
  });

  test('no background: 1001 labels without "background" on 1001 outputs', () => {
    const labels = labelsFromList(['not background', ...CLASSES_1000]);
    const contract = contractOf(resolve(MOBILENET_NATIVE, {}, labels));
    assert.equal(contract.output.backgroundClass, false);
    assert.equal(contract.labels?.full.length, 1001);
  });

  test('output: a name matching /logit/ is preferred, otherwise the first output', () => {
    const reversed = { inputs: MOBILENET_NATIVE.inputs, outputs: [...MOBILENET_NATIVE.outputs].reverse() };
    assert.equal(contractOf(resolve(reversed)).output.name, 'logits');
    const unnamed = {
      inputs: MOBILENET_IMAGENET.inputs,
      outputs: [
        { name: 'prob', type: 'FP32', shape: [-1, 10] },
        { name: 'features', type: 'FP32', shape: [-1, 10] },
      ],
    } as const satisfies { inputs: TensorInfo[]; outputs: TensorInfo[] };
    assert.equal(contractOf(resolve(unnamed)).output.name, 'prob');
  });

  test('kind: names with "prob" or "softmax" (any case) are probabilities, everything else logits', () => {
    const kinds = ['logits', 'probabilities', 'softmaxout_1', 'Softmax:0', 'PROB', 'output', 'fc1000'].map(
      (name) => {
        const model = {
          inputs: MOBILENET_IMAGENET.inputs,
          outputs: [{ name, type: 'FP32', shape: [-1, 10] }],
        } as const;
        return contractOf(resolve(model)).output.kind;
      },
    );
    assert.deepEqual(kinds, [
      'logits',
      'probabilities',
      'probabilities',
      'probabilities',
      'probabilities',
      'logits',
      'logits',
    ]);
  });

  test('class count multiplies every dimension after the batch', () => {
    assert.equal(contractOf(resolve(SQUEEZENET_FP16)).output.classCount, 1000);
  });
});

describe('resolveImageContract: model.json overrides', () => {
  test('every input and output field from model.json wins over the guess', () => {
    const config: ModelConfigFile = {
      input: {
        name: 'data_0',
        layout: 'NCHW',
        dtype: 'float16',
        colorOrder: 'BGR',
        size: 224,
        resizeMode: 'stretch',
        resizeShorterSide: 300,
        scale: 1,
        mean: [103.939, 116.779, 123.68],
        std: [1, 1, 1],
      },
      output: { name: 'softmaxout_1', kind: 'logits', backgroundClass: false },
    };
    const contract = contractOf(resolve(SQUEEZENET_FP16, config, LABELS_1000));
    assert.deepEqual(contract.input, {
      name: 'data_0',
      layout: 'NCHW',
      dtype: 'float16',
      colorOrder: 'BGR',
      height: 224,
      width: 224,
      resizeMode: 'stretch',
      resizeShorterSide: 300,
      scale: 1,
      mean: [103.939, 116.779, 123.68],
      std: [1, 1, 1],
    });
    assert.deepEqual(contract.output, {
      name: 'softmaxout_1',
      kind: 'logits',
      backgroundClass: false,
      classCount: 1000,
    });
  });

  test('output name picks the second output; the kind is then guessed from that name', () => {
    const contract = contractOf(
      resolve(MOBILENET_NATIVE, { output: { name: 'probabilities' } }, LABELS_1001),
    );
    assert.deepEqual(contract.output, {
      name: 'probabilities',
      kind: 'probabilities',
      backgroundClass: true,
      classCount: 1001,
    });
  });

  test('backgroundClass: true with 1000 labels on 1001 outputs keeps the labels; with 1001 labels drops the first', () => {
    const config: ModelConfigFile = { output: { backgroundClass: true } };
    assert.deepEqual(contractOf(resolve(MOBILENET_NATIVE, config, LABELS_1000)).labels, LABELS_1000);
    assert.deepEqual(contractOf(resolve(MOBILENET_NATIVE, config, LABELS_1001)).labels, LABELS_1000);
  });

  test('backgroundClass: false keeps 1001 labels starting with "background" as a class', () => {
    const contract = contractOf(
      resolve(MOBILENET_NATIVE, { output: { backgroundClass: false } }, LABELS_1001),
    );
    assert.equal(contract.output.backgroundClass, false);
    assert.equal(contract.labels?.full[0], 'background');
  });

  test('a dynamic size is taken from input.size', () => {
    const contract = contractOf(resolve(withImageShape([-1, -1, -1, 3]), { input: { size: 160 } }));
    assert.deepEqual(
      [contract.input.layout, contract.input.height, contract.input.width, contract.input.resizeShorterSide],
      ['NHWC', 160, 160, 183],
    );
  });

  test('input.size equal to the fixed dims is accepted', () => {
    assert.equal(contractOf(resolve(MOBILENET_IMAGENET, { input: { size: [224, 224] } })).input.height, 224);
  });
});

describe('resolveImageContract: contradictions are SKIFF_MODEL_CONTRACT', () => {
  const cases: readonly [string, () => unknown, string][] = [
    [
      'dtype mismatch',
      () => resolve(MOBILENET_IMAGENET, { input: { dtype: 'uint8' } }),
      'model.json says input dtype uint8 but the model\'s input "input" is float32',
    ],
    [
      'unknown input name',
      () => resolve(MOBILENET_IMAGENET, { input: { name: 'image' } }),
      'model.json names input "image" but the model\'s inputs are "input"',
    ],
    [
      'unknown output name',
      () => resolve(MOBILENET_NATIVE, { output: { name: 'prob' } }),
      'model.json names output "prob" but the model\'s outputs are "logits", "probabilities"',
    ],
    [
      'size mismatch with a fixed dimension',
      () => resolve(MOBILENET_IMAGENET, { input: { size: 160 } }),
      "model.json says size 160x160 but the model's input is [-1,3,224,224]",
    ],
    [
      'size mismatch in width only',
      () => resolve(SQUEEZENET_FP16, { input: { size: [224, 200] } }),
      "model.json says size 224x200 but the model's input is [1,3,224,224]",
    ],
    [
      'dynamic size without input.size',
      () => resolve(withImageShape([-1, 3, -1, -1])),
      'input "input" has a dynamic height or width; set "input.size" in model.json',
    ],
    [
      'layout that puts 224 in the channel dimension',
      () => resolve(MOBILENET_IMAGENET, { input: { layout: 'NHWC' } }),
      'input "input" has 224 channels in layout NHWC; Skiff feeds 3 (RGB/BGR)',
    ],
    [
      'a 4-D input of a non-image type',
      () => resolve(withImageShape([-1, 3, 224, 224], 'INT64')),
      'input "input" is INT64; image inputs must be FP32, FP16 or UINT8',
    ],
    [
      'model.json naming a 2-D input',
      () => resolve(TABULAR, { input: { name: 'features' } }),
      'input "features" has shape [-1,4], not 4-D',
    ],
    [
      'std containing 0',
      () => resolve(MOBILENET_IMAGENET, { input: { std: [1, 0, 1] } }),
      'model.json "input.std" must not contain 0',
    ],
    [
      'an output with a dynamic class count',
      () =>
        resolve({
          inputs: MOBILENET_IMAGENET.inputs,
          outputs: [{ name: 'logits', type: 'FP32', shape: [-1, -1] }],
        }),
      'output "logits" has shape [-1,-1]; a classifier needs a fixed class count',
    ],
    [
      'a 1-D output',
      () =>
        resolve({
          inputs: MOBILENET_IMAGENET.inputs,
          outputs: [{ name: 'logits', type: 'FP32', shape: [1000] }],
        }),
      'output "logits" has shape [1000]; a classifier needs a fixed class count',
    ],
    [
      'no outputs',
      () => resolve({ inputs: MOBILENET_IMAGENET.inputs, outputs: [] }),
      'the model has no outputs',
    ],
  ];
  for (const [title, run, message] of cases) {
    test(title, () => {
      assert.throws(run, {
        name: 'SkiffError',
        code: 'SKIFF_MODEL_CONTRACT',
        kind: 'invalid_argument',
        message,
      });
    });
  }
});

describe('resolveImageContract: labels that do not fit are SKIFF_LABELS_INVALID', () => {
  const cases: readonly [string, () => unknown, string][] = [
    [
      '998 labels on 1000 outputs',
      () => resolve(MOBILENET_IMAGENET, {}, labelsFromList(CLASSES_1000.slice(2))),
      'the labels list 998 classes but the model outputs 1000',
    ],
    [
      '1001 labels (first not "background") on 1000 outputs',
      () => resolve(MOBILENET_IMAGENET, {}, labelsFromList([...CLASSES_1000, 'extra'])),
      'the labels list 1001 classes but the model outputs 1000',
    ],
    [
      '1000 labels on 1001 outputs with backgroundClass: false',
      () => resolve(MOBILENET_NATIVE, { output: { backgroundClass: false } }, LABELS_1000),
      'the labels list 1000 classes but the model outputs 1001',
    ],
    [
      '1001 labels on 1000 outputs with backgroundClass: true',
      () => resolve(MOBILENET_IMAGENET, { output: { backgroundClass: true } }, LABELS_1001),
      'the labels list 1001 classes but the model outputs 999 (background dropped)',
    ],
  ];
  for (const [title, run, message] of cases) {
    test(title, () => {
      assert.throws(run, { name: 'SkiffError', code: 'SKIFF_LABELS_INVALID', message });
    });
  }

  test('999 labels on a 1000-class output (a truncated labels file) are SKIFF_LABELS_INVALID', () => {
    assert.throws(() => resolve(MOBILENET_IMAGENET, {}, labelsFromList(CLASSES_1000.slice(1))), {
      code: 'SKIFF_LABELS_INVALID',
    });
  });
});

describe('resolveImageContract: models that are not image classifiers', () => {
  test('a tabular model resolves to ok: false with the reason', () => {
    assert.deepEqual(resolve(TABULAR), {
      ok: false,
      reason: 'the model has no 4-D image input (inputs: "features" FP32 [-1,4])',
    });
  });

  test('a model with an image input and a second input resolves to ok: false', () => {
    const twoInputs = {
      inputs: [MOBILENET_IMAGENET.inputs[0], { name: 'scale', type: 'FP32', shape: [1] }],
      outputs: MOBILENET_IMAGENET.outputs,
    } as const satisfies { inputs: TensorInfo[]; outputs: TensorInfo[] };
    assert.deepEqual(resolve(twoInputs), {
      ok: false,
      reason: 'the model has several inputs ("input", "scale"); image classification needs exactly one',
    });
  });

  test('a model with no inputs at all resolves to ok: false', () => {
    const resolution = resolve({ inputs: [], outputs: TABULAR.outputs });
    assert.equal(resolution.ok, false);
    assert.match(resolution.reason, /^the model has no 4-D image input/);
  });
});
