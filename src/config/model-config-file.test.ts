import { execFileSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TensorInfo } from '../core/tensor/tensor.js';
import { resolveImageContract } from '../core/model/resolve-image-contract.js';
import { parseModelConfig, readModelConfig } from './model-config-file.js';

// model.json files as a user would write them for the real MobileNet and SqueezeNet ONNX files (no file is read).
const REAL_CONFIGS: readonly {
  readonly title: string;
  readonly json: unknown;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
}[] = [
  {
    title: 'mobilenet _imagenet (nothing to say: everything is guessed)',
    json: { name: 'mobilenet_v2', labels: 'synset_words.txt' },
    inputs: [{ name: 'input', type: 'FP32', shape: [-1, 3, 224, 224] }],
    outputs: [{ name: 'logits', type: 'FP32', shape: [-1, 1000] }],
  },
  {
    title: 'mobilenet 0.25_128 _imagenet with an explicit size and resize',
    json: {
      input: { size: [128, 128], resizeShorterSide: 146, resizeMode: 'shorter-side-then-center-crop' },
    },
    inputs: [{ name: 'input', type: 'FP32', shape: [-1, 3, 128, 128] }],
    outputs: [{ name: 'logits', type: 'FP32', shape: [-1, 1000] }],
  },
  {
    title: 'mobilenet _native (uint8 NHWC, background class)',
    json: {
      labels: 'imagenet_labels_1001_with_background.txt',
      input: { name: 'input', layout: 'NHWC', dtype: 'uint8', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
      output: { name: 'logits', kind: 'logits', backgroundClass: true },
    },
    inputs: [{ name: 'input', type: 'UINT8', shape: [-1, 224, 224, 3] }],
    outputs: [
      { name: 'logits', type: 'FP32', shape: [-1, 1001] },
      { name: 'probabilities', type: 'FP32', shape: [-1, 1001] },
    ],
  },
  {
    title: 'SqueezeNet fp16 (BGR, 0..255, probabilities)',
    json: {
      input: {
        name: 'data_0',
        layout: 'NCHW',
        dtype: 'float16',
        colorOrder: 'BGR',
        size: 224,
        resizeMode: 'stretch',
        scale: 1,
        mean: [0, 0, 0],
        std: [1, 1, 1],
      },
      output: { name: 'softmaxout_1', kind: 'probabilities', backgroundClass: false },
    },
    inputs: [{ name: 'data_0', type: 'FP16', shape: [1, 3, 224, 224] }],
    outputs: [{ name: 'softmaxout_1', type: 'FP16', shape: [1, 1000, 1, 1] }],
  },
];

describe('parseModelConfig', () => {
  for (const { title, json, inputs, outputs } of REAL_CONFIGS) {
    test(`accepts the config for ${title}, unchanged, and it resolves against the model`, () => {
      const config = parseModelConfig(json, 'model.json');
      assert.deepEqual(config, json);
      const resolution = resolveImageContract(inputs, outputs, config, undefined);
      assert.equal(resolution.ok, true, resolution.ok ? '' : resolution.reason);
    });
  }

  test('an empty object is a valid config; labels may be a file or a list', () => {
    assert.deepEqual(parseModelConfig({}, 'model.json'), {});
    assert.deepEqual(parseModelConfig({ labels: ['cat', 'dog'] }, 'model.json'), { labels: ['cat', 'dog'] });
  });

  test("batching may set the model's own queue limits", () => {
    assert.deepEqual(parseModelConfig({ batching: { maxQueueSize: 0, queueTimeoutMs: 250 } }, 'model.json'), {
      batching: { maxQueueSize: 0, queueTimeoutMs: 250 },
    });
  });

  const rejected: readonly [string, unknown, string][] = [
    [
      'a negative maxQueueSize',
      { batching: { maxQueueSize: -1 } },
      'model.json "batching.maxQueueSize": Number must be greater than or equal to 0',
    ],
    [
      'a queueTimeoutMs of 0',
      { batching: { queueTimeoutMs: 0 } },
      'model.json "batching.queueTimeoutMs": Number must be greater than or equal to 1',
    ],
    [
      'a fractional queueTimeoutMs',
      { batching: { queueTimeoutMs: 2.5 } },
      'model.json "batching.queueTimeoutMs": Expected integer, received float',
    ],
    ['an unknown top-level key', { model: 'x.onnx' }, "model.json: Unrecognized key(s) in object: 'model'"],
    [
      'an unknown input key',
      { input: { colour: 'BGR' } },
      'model.json "input": Unrecognized key(s) in object: \'colour\'',
    ],
    [
      'an unknown output key',
      { output: { background: true } },
      'model.json "output": Unrecognized key(s) in object: \'background\'',
    ],
    [
      'std containing 0',
      { input: { std: [0.229, 0, 0.225] } },
      'model.json "input.std": std values must not be 0',
    ],
    [
      'a layout that is not NCHW or NHWC',
      { input: { layout: 'CHW' } },
      `model.json "input.layout": Invalid enum value. Expected 'NCHW' | 'NHWC', received 'CHW'`,
    ],
    [
      'a mean of two values',
      { input: { mean: [0.5, 0.5] } },
      'model.json "input.mean": Array must contain at least 3 element(s)',
    ],
    ['a size of 0', { input: { size: 0 } }, 'model.json "input.size": Number must be greater than 0'],
    ['a size with one side', { input: { size: [224] } }, 'model.json "input.size": Invalid input'],
    [
      'a non-integer resize side',
      { input: { resizeShorterSide: 255.5 } },
      'model.json "input.resizeShorterSide": Expected integer, received float',
    ],
    ['an infinite scale', { input: { scale: Infinity } }, 'model.json "input.scale": Number must be finite'],
    [
      'a kind that is neither',
      { output: { kind: 'softmax' } },
      `model.json "output.kind": Invalid enum value. Expected 'logits' | 'probabilities', received 'softmax'`,
    ],
    ['labels of the wrong type', { labels: 5 }, 'model.json "labels": Invalid input'],
    ['null', null, 'model.json: Expected object, received null'],
  ];
  for (const [title, json, message] of rejected) {
    test(`rejects ${title} with SKIFF_CONFIG_INVALID naming the key path`, () => {
      assert.throws(() => parseModelConfig(json, 'model.json'), {
        name: 'SkiffError',
        code: 'SKIFF_CONFIG_INVALID',
        message,
      });
    });
  }
});

describe('readModelConfig', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-model-config-test-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (name: string, text: string): string => {
    const target = path.join(dir, name);
    writeFileSync(target, text);
    return target;
  };

  test('reads and checks a model.json', async () => {
    const target = write(
      'good.json',
      '{"input": {"colorOrder": "BGR"}, "output": {"backgroundClass": true}}',
    );
    assert.deepEqual(await readModelConfig(target), {
      input: { colorOrder: 'BGR' },
      output: { backgroundClass: true },
    });
  });

  test('a missing file is SKIFF_CONFIG_UNREADABLE', async () => {
    const target = path.join(dir, 'absent.json');
    await assert.rejects(readModelConfig(target), {
      code: 'SKIFF_CONFIG_UNREADABLE',
      message: `cannot read model config ${target}: ENOENT`,
    });
  });

  test('bad JSON is SKIFF_CONFIG_UNREADABLE', async () => {
    const target = write('bad.json', '{"input": ');
    await assert.rejects(readModelConfig(target), (error: unknown) => {
      assert.equal((error as { code?: unknown }).code, 'SKIFF_CONFIG_UNREADABLE');
      assert.ok(
        error instanceof Error && error.message.startsWith(`model config ${target} is not valid JSON: `),
        String(error),
      );
      return true;
    });
  });

  test('a valid JSON file with a bad key is SKIFF_CONFIG_INVALID naming the file and the key path', async () => {
    const target = write('unknown.json', '{"input": {"sizes": 224}}');
    await assert.rejects(readModelConfig(target), {
      code: 'SKIFF_CONFIG_INVALID',
      message: `${target} "input": Unrecognized key(s) in object: 'sizes'`,
    });
  });

  test('a FIFO, a directory or a device is refused at once, never opened for reading', async () => {
    const fifo = path.join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(readModelConfig(fifo), {
      code: 'SKIFF_CONFIG_UNREADABLE',
      message: `model config ${fifo} is a FIFO, not a regular file`,
    });
    await assert.rejects(readModelConfig(dir), {
      code: 'SKIFF_CONFIG_UNREADABLE',
      message: `model config ${dir} is a directory, not a regular file`,
    });
    await assert.rejects(readModelConfig('/dev/zero', { shownAs: 'zero/model.json' }), {
      code: 'SKIFF_CONFIG_UNREADABLE',
      message: 'model config zero/model.json is a character device, not a regular file',
    });
  });
});
