import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { seededRandom, uniform } from '../test/fixtures/make-fixtures.js';
import type { GraphSpec } from '../test/fixtures/onnx-writer.js';
import { encodeModel } from '../test/fixtures/onnx-writer.js';
import type { TensorRange } from './quantize-qdq.js';
import { quantizationPoints, quantizeQdq, withCalibrationOutputs } from './quantize-qdq.js';

/** A residual block in miniature: conv+relu, conv, add the input, relu, pool, flatten, a float head. */
function tinyResidual(): GraphSpec {
  const random = seededRandom(7);
  const conv = (
    name: string,
  ): { name: string; elemType: 'float32'; dims: number[]; data: Float32Array }[] => [
    { name: `${name}.w`, elemType: 'float32', dims: [4, 4, 3, 3], data: uniform(144, 0.3, random) },
    { name: `${name}.b`, elemType: 'float32', dims: [4], data: uniform(4, 0.1, random) },
  ];
  const pads = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };
  return {
    name: 'tiny-residual',
    inputs: [{ name: 'data', elemType: 'float32', dims: ['N', 4, 8, 8] }],
    outputs: [{ name: 'logits', elemType: 'float32', dims: ['N', 3] }],
    initializers: [
      ...conv('c1'),
      ...conv('c2'),
      { name: 'fc.w', elemType: 'float32', dims: [3, 4], data: uniform(12, 0.5, random) },
      { name: 'fc.b', elemType: 'float32', dims: [3], data: uniform(3, 0.1, random) },
    ],
    nodes: [
      { opType: 'Conv', name: 'c1', inputs: ['data', 'c1.w', 'c1.b'], outputs: ['c1'], attributes: pads },
      { opType: 'Relu', name: 'c1.relu', inputs: ['c1'], outputs: ['c1.relu'] },
      { opType: 'Conv', name: 'c2', inputs: ['c1.relu', 'c2.w', 'c2.b'], outputs: ['c2'], attributes: pads },
      { opType: 'Add', name: 'add', inputs: ['c2', 'data'], outputs: ['add'] },
      { opType: 'Relu', name: 'add.relu', inputs: ['add'], outputs: ['add.relu'] },
      { opType: 'GlobalAveragePool', name: 'pool', inputs: ['add.relu'], outputs: ['pool'] },
      { opType: 'Flatten', name: 'flatten', inputs: ['pool'], outputs: ['flatten'], attributes: { axis: 1 } },
      {
        opType: 'Gemm',
        name: 'fc',
        inputs: ['flatten', 'fc.w', 'fc.b'],
        outputs: ['logits'],
        attributes: { transB: 1 },
      },
    ],
  };
}

test('quantization points: the input and every activation, but not a conv output read only by its Relu, nor the float head', () => {
  assert.deepEqual(quantizationPoints(tinyResidual()), ['data', 'c1.relu', 'c2', 'add.relu', 'pool']);
});

test('the QDQ model runs in ONNX Runtime, stores int8 weights, and follows the float model closely', async () => {
  const spec = tinyResidual();
  const points = quantizationPoints(spec);
  const random = seededRandom(11);
  const inputs = Array.from({ length: 8 }, () => uniform(4 * 8 * 8, 2, random));
  const float = await ort.InferenceSession.create(encodeModel(withCalibrationOutputs(spec, points)));
  const ranges = new Map<string, TensorRange>();
  const expected: Float32Array[] = [];
  for (const input of inputs) {
    const out = await float.run({ data: new ort.Tensor('float32', input, [1, 4, 8, 8]) });
    expected.push(out.logits?.data as Float32Array);
    for (const point of points) {
      const values = Array.from(out[point]?.data as Float32Array);
      const seen = ranges.get(point) ?? { min: Infinity, max: -Infinity };
      ranges.set(point, { min: Math.min(seen.min, ...values), max: Math.max(seen.max, ...values) });
    }
  }
  const quantized = quantizeQdq(spec, ranges);
  const weights = (quantized.initializers ?? []).filter((i) => i.name.endsWith('.w.int8'));
  assert.deepEqual(
    weights.map((w) => [w.name, w.elemType]),
    [
      ['c1.w.int8', 'int8'],
      ['c2.w.int8', 'int8'],
    ],
  );
  assert.ok(
    !(quantized.initializers ?? []).some((i) => i.name === 'c1.w'),
    'the float conv weights are gone',
  );
  const session = await ort.InferenceSession.create(encodeModel(quantized));
  for (const [i, input] of inputs.entries()) {
    const out = await session.run({ data: new ort.Tensor('float32', input, [1, 4, 8, 8]) });
    const got = Array.from(out.logits?.data as Float32Array);
    const want = Array.from(expected[i] ?? []);
    const scale = Math.max(...want.map(Math.abs));
    for (const [k, value] of got.entries())
      assert.ok(
        Math.abs(value - (want[k] ?? NaN)) <= 0.05 * scale,
        `input ${i} logit ${k}: ${value} vs ${want[k]}`,
      );
  }
});
