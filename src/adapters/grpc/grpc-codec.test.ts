import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../../core/tensor/tensor.js';
import type { InferResponse } from '../../core/inference-types.js';
import { tensorToRaw } from '../../core/tensor/raw-tensor.js';
import { testLimits } from '../../core/testing/test-limits.js';
import { decodeModelInfer, encodeModelInfer } from './grpc-codec.js';

/** --max-tensor-elements for these tests: a million, so a shape just over it is refused. */
const LIMIT = testLimits({ maxTensorElements: 1_000_000 });

const raw = (tensor: Tensor): Buffer => Buffer.from(tensorToRaw(tensor));

test('raw inputs of several datatypes decode to the tensors they were encoded from', () => {
  const tensors: Record<string, Tensor> = {
    f64: { type: 'FP64', shape: [2], data: Float64Array.from([Math.E, -0.5]) },
    i32: { type: 'INT32', shape: [1, 2], data: Int32Array.from([-7, 2147483647]) },
    i64: { type: 'INT64', shape: [1], data: BigInt64Array.from([-(2n ** 62n)]) },
    b: { type: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) },
    s: { type: 'BYTES', shape: [2], data: [Uint8Array.from([1, 2, 3]), new Uint8Array(0)] },
  };
  const { request, typedOutputs } = decodeModelInfer(
    {
      model_name: 'm',
      model_version: '',
      id: '',
      inputs: Object.entries(tensors).map(([name, t]) => ({
        name,
        datatype: t.type,
        shape: t.shape.map(String),
      })),
      raw_input_contents: Object.values(tensors).map(raw),
    },
    LIMIT,
  );
  assert.equal(typedOutputs, false);
  assert.equal(request.model, 'm');
  assert.equal(request.version, undefined);
  assert.equal(request.id, undefined);
  assert.equal(request.outputs, undefined);
  assert.deepEqual({ ...request.inputs }, tensors);
});

test('outputs, classification (int64 or uint64 param), version, id and binary_data_output', () => {
  const { request, typedOutputs } = decodeModelInfer(
    {
      model_name: 'm',
      model_version: '3',
      id: 'abc',
      parameters: { binary_data_output: { bool_param: false, parameter_choice: 'bool_param' } },
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['1'], contents: { fp32_contents: [1] } }],
      outputs: [
        { name: 'a', parameters: { classification: { int64_param: '3' } } },
        { name: 'b', parameters: { classification: { uint64_param: '2' } } },
        { name: 'c', parameters: {} },
      ],
    },
    LIMIT,
  );
  assert.equal(typedOutputs, true);
  assert.equal(request.version, '3');
  assert.equal(request.id, 'abc');
  assert.deepEqual(request.outputs, [
    { name: 'a', classification: 3 },
    { name: 'b', classification: 2 },
    { name: 'c', classification: undefined },
  ]);
});

test('malformed requests are refused before anything runs', () => {
  const x = { name: 'x', datatype: 'FP32', shape: ['1'], contents: { fp32_contents: [1] } };
  const cases: [object, string, string][] = [
    [{ model_name: 'm', inputs: [x, x] }, 'SKIFF_BAD_TENSOR', 'input "x" is given twice'],
    [{ model_name: 'm', inputs: [{ ...x, name: '' }] }, 'SKIFF_BAD_TENSOR', 'inputs[0].name is empty'],
    [
      { model_name: 'm', inputs: [{ ...x, shape: ['-1'] }] },
      'SKIFF_BAD_TENSOR',
      'input "x": shape [-1] must hold non-negative integers',
    ],
    [
      { model_name: 'm', inputs: [x], outputs: [{ name: '' }] },
      'SKIFF_BAD_TENSOR',
      'outputs[0].name is empty',
    ],
    [
      { model_name: 'm', inputs: [x], parameters: { binary_data_output: { string_param: 'no' } } },
      'SKIFF_BAD_PARAMETER',
      'parameter binary_data_output must be a bool_param',
    ],
    [
      {
        model_name: 'm',
        inputs: [x],
        outputs: [{ name: 'y', parameters: { classification: { bool_param: true } } }],
      },
      'SKIFF_BAD_PARAMETER',
      'output "y": classification must be an int64_param (how many classes to return)',
    ],
    [
      { model_name: 'm', inputs: [{ ...x, shape: ['1000', '1001'] }] },
      'SKIFF_TENSOR_TOO_LARGE',
      'input "x": shape [1000,1001] has 1001000 elements, more than the limit of 1000000 (--max-tensor-elements)',
    ],
  ];
  for (const [message, code, text] of cases) {
    assert.throws(() => decodeModelInfer(message, LIMIT), { code, message: text }, text);
  }
});

test('responses: raw contents in output order by default, typed contents when asked', () => {
  const response: InferResponse = {
    model: 'm',
    version: '1',
    id: undefined,
    outputs: [
      { name: 'p', tensor: { type: 'FP32', shape: [1, 2], data: Float32Array.from([0.25, 0.75]) } },
      {
        name: 'c',
        tensor: { type: 'BYTES', shape: [1, 1], data: [Uint8Array.from(Buffer.from('0.75:1:cat'))] },
      },
    ],
  };
  const rawMessage = encodeModelInfer(response, false, 1 << 20);
  assert.deepEqual(rawMessage, {
    model_name: 'm',
    model_version: '1',
    id: '',
    parameters: {},
    outputs: [
      { name: 'p', datatype: 'FP32', shape: [1, 2], parameters: {} },
      { name: 'c', datatype: 'BYTES', shape: [1, 1], parameters: {} },
    ],
    raw_output_contents: [
      Buffer.from(Float32Array.from([0.25, 0.75]).buffer),
      Buffer.from([10, 0, 0, 0, ...Buffer.from('0.75:1:cat')]),
    ],
  });
  const typed = encodeModelInfer(response, true, 1 << 20);
  assert.deepEqual(typed.raw_output_contents, []);
  assert.deepEqual(
    typed.outputs.map((o) => o.contents),
    [{ fp32_contents: [0.25, 0.75] }, { bytes_contents: [Buffer.from('0.75:1:cat')] }],
  );
});
