import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MethodDefinition } from '@grpc/grpc-js';
import { testLimits } from '../../core/testing/test-limits.js';
import { loadInferenceService } from './inference-proto.js';
import { MAX_REQUESTED_OUTPUTS, rawContentsBytes, readModelRef, scanModelInfer } from './model-infer-scan.js';

// Serialized by the same proto and library the official clients' messages are parsed with.
const infer = loadInferenceService().ModelInfer as MethodDefinition<object, unknown>;
const encode = (message: object): Uint8Array => infer.requestSerialize(message);
const limits = testLimits({ maxRequestElements: 1000, maxBytesElements: 10 });

test('counts packed numbers, varints and BYTES elements from the wire, and refuses past the limits', () => {
  const ok = encode({
    model_name: 'm',
    inputs: [
      {
        name: 'a',
        datatype: 'FP32',
        shape: [500],
        contents: { fp32_contents: new Array<number>(500).fill(1.5) },
      },
      {
        name: 'b',
        datatype: 'INT64',
        shape: [490],
        contents: { int64_contents: new Array<number>(490).fill(300) },
      },
      {
        name: 's',
        datatype: 'BYTES',
        shape: [10],
        contents: { bytes_contents: new Array(10).fill(Buffer.from('x')) },
      },
    ],
  });
  scanModelInfer(ok, limits);
  const overElements = encode({
    model_name: 'm',
    inputs: [
      {
        name: 'a',
        datatype: 'INT32',
        shape: [1001],
        contents: { int_contents: new Array<number>(1001).fill(-7) },
      },
    ],
  });
  assert.throws(() => scanModelInfer(overElements, limits), {
    code: 'SKIFF_TENSOR_TOO_LARGE',
    message: /1001 elements, more than the limit of 1000/,
  });
  const overStrings = encode({
    model_name: 'm',
    inputs: [
      {
        name: 's',
        datatype: 'BYTES',
        shape: [11],
        contents: { bytes_contents: new Array(11).fill(Buffer.alloc(0)) },
      },
    ],
  });
  assert.throws(() => scanModelInfer(overStrings, limits), { message: /11 BYTES elements/ });
});

test('thousands of requested outputs are refused before they are decoded', () => {
  const many = encode({
    model_name: 'm',
    outputs: Array.from({ length: MAX_REQUESTED_OUTPUTS + 1 }, () => ({ name: 'logits' })),
  });
  assert.throws(() => scanModelInfer(many, limits), { code: 'SKIFF_BAD_TENSOR', message: /257 outputs/ });
  scanModelInfer(encode({ model_name: 'm', outputs: [{ name: 'logits' }] }), limits);
});

test('bytes that are not protobuf are SKIFF_BAD_REQUEST, never anything else', () => {
  for (const bad of [
    [0x2a, 0xff],
    [0x0f],
    [0x0a, 0x05, 0x41],
    [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
  ])
    assert.throws(() => scanModelInfer(Uint8Array.from(bad), limits), { code: 'SKIFF_BAD_REQUEST' });
  scanModelInfer(new Uint8Array(0), limits);
});

test('readModelRef reads model_name and model_version without decoding the tensors', () => {
  const message = encode({
    model_name: 'résumé-model',
    model_version: '3',
    inputs: [{ name: 'a', datatype: 'FP32', shape: [2], contents: { fp32_contents: [1, 2] } }],
    raw_input_contents: [Buffer.alloc(64)],
  });
  assert.deepEqual(readModelRef(message), { name: 'résumé-model', version: '3' });
  assert.deepEqual(readModelRef(encode({ inputs: [] })), { name: '', version: '' });
  assert.throws(
    () => readModelRef(Uint8Array.from([0x0a, 0x05, 0x61])),
    (error: Error & { code?: string }) => error.code === 'SKIFF_BAD_REQUEST',
  );
});

test('rawContentsBytes sums raw_input_contents from the top-level fields; 0 for other messages and for non-protobuf', () => {
  const inputs = [
    { name: 'a', datatype: 'FP32', shape: [16] },
    { name: 'b', datatype: 'UINT8', shape: [300] },
  ];
  assert.equal(
    rawContentsBytes(
      encode({ model_name: 'm', inputs, raw_input_contents: [Buffer.alloc(64), Buffer.alloc(300)] }),
    ),
    364,
  );
  const typed = [{ name: 'a', datatype: 'FP32', shape: [2], contents: { fp32_contents: [1, 2] } }];
  assert.equal(rawContentsBytes(encode({ model_name: 'm', inputs: typed })), 0);
  assert.equal(rawContentsBytes(Uint8Array.from([0x3a, 0x05, 0x61])), 0);
});
