// gRPC conformance with the official clients: every request is written by field number as a stub generated
// from Triton's grpc_service.proto / model_config.proto (triton-inference-server/common) or KServe's
// grpc_predict_v2.proto writes it, and every answer is read by field number as such a stub reads it. Skiff's
// own .proto is not used here, so a field number that drifted from the official ones fails a test.
// (tritonclient and the kserve package cannot be installed here: no PyPI. Their requests are rebuilt from
// the protos and from tritonclient's grpc/_utils.py, _infer_input.py and _requested_output.py.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import type { RunningServer } from '../../src/server.js';
import { fixtureModel } from '../helpers/paths.js';
import { repositoryFolder } from '../helpers/repository-folder.js';
import { startTestServer } from '../helpers/test-server.js';
import type { WireField, WireMessage } from '../helpers/proto-wire.js';
import { wireClient } from '../helpers/proto-wire.js';
import { SAMPLES, decodeRaw, encodeRaw } from '../helpers/conformance-samples.js';
import type { Sample } from '../helpers/conformance-samples.js';

/** grpc_service.proto field numbers (Triton; KServe's grpc_predict_v2.proto has the same for these). */
const INFER = {
  model_name: 1,
  model_version: 2,
  id: 3,
  parameters: 4,
  inputs: 5,
  outputs: 6,
  raw_input_contents: 7,
};
const TENSOR = { name: 1, datatype: 2, shape: 3, parameters: 4, contents: 5 };
const RESPONSE = { model_name: 1, model_version: 2, id: 3, outputs: 5, raw_output_contents: 6 };
/** InferTensorContents: which repeated field carries each datatype. */
const CONTENTS: Record<string, number> = {
  BOOL: 1,
  INT8: 2,
  INT16: 2,
  INT32: 2,
  INT64: 3,
  UINT8: 4,
  UINT16: 4,
  UINT32: 4,
  UINT64: 5,
  FP32: 6,
  FP64: 7,
  BYTES: 8,
};
/** model_config.proto DataType values. */
const TYPE_ENUM: Record<string, number> = {
  BOOL: 1,
  UINT8: 2,
  UINT16: 3,
  UINT32: 4,
  UINT64: 5,
  INT8: 6,
  INT16: 7,
  INT32: 8,
  INT64: 9,
  FP16: 10,
  FP32: 11,
  FP64: 12,
  BYTES: 13,
};

/** A map<string, InferParameter> entry: key = 1, value = 2; InferParameter bool 1, int64 2, string 3. */
const parameter = (mapField: number, name: string, value: WireField): WireField => [
  mapField,
  [
    [1, name],
    [2, [value]],
  ],
];

function typedContents(sample: Sample): WireField {
  const field = CONTENTS[sample.datatype];
  assert.ok(field !== undefined, sample.datatype);
  const values = sample.values;
  if (sample.datatype === 'BYTES') return [TENSOR.contents, values.map((v): WireField => [field, String(v)])];
  if (sample.datatype === 'FP32') return [TENSOR.contents, [[field, { packedFloat: values.map(Number) }]]];
  if (sample.datatype === 'FP64') return [TENSOR.contents, [[field, { packedDouble: values.map(Number) }]]];
  return [
    TENSOR.contents,
    [[field, { packed: values.map((v) => (typeof v === 'boolean' ? v : BigInt(v as number | bigint))) }]],
  ];
}

function inputTensor(name: string, sample: Sample, typed: boolean): WireField {
  return [
    INFER.inputs,
    [
      [TENSOR.name, name],
      [TENSOR.datatype, sample.datatype],
      [TENSOR.shape, { packed: [2, 3] }],
      ...(typed ? [typedContents(sample)] : []),
    ],
  ];
}

/** Values of one InferTensorContents field as a generated stub reads them. */
function typedValues(datatype: string, packed: Buffer[], contents: WireMessage, field: number): unknown[] {
  if (datatype === 'BYTES') return contents.strings(field);
  if (datatype === 'FP32' || datatype === 'FP64') return decodeRaw(datatype, Buffer.concat(packed));
  if (datatype === 'BOOL') return contents.ints(field).map((v) => v === 1n);
  if (datatype === 'INT64') return contents.ints(field, true);
  if (datatype === 'UINT64') return contents.ints(field);
  // int32 and uint32 fields: negative int32 values are sign-extended varints.
  return contents.ints(field, datatype.startsWith('INT')).map(Number);
}

function assertStatus(error: ServiceError, code: status, message: string | RegExp): void {
  assert.equal(error.code, code, `${status[error.code]}: ${error.details}`);
  if (typeof message === 'string') assert.equal(error.details, message);
  else assert.match(error.details, message);
}

function readOutputs(response: WireMessage): Map<string, { datatype: string; shape: bigint[]; raw: Buffer }> {
  const raws = response.bytes(RESPONSE.raw_output_contents);
  const out = new Map<string, { datatype: string; shape: bigint[]; raw: Buffer }>();
  response.messages(RESPONSE.outputs).forEach((output, i) => {
    out.set(output.string(TENSOR.name), {
      datatype: output.string(TENSOR.datatype),
      shape: output.ints(TENSOR.shape, true),
      raw: raws[i] ?? Buffer.alloc(0),
    });
  });
  return out;
}

describe('gRPC conformance: inference with every datatype', () => {
  let typed: RunningServer;
  let all: RunningServer;
  before(async () => {
    [typed, all] = await Promise.all([
      startTestServer({ model: fixtureModel('typed-types/model.onnx'), grpcPort: 0 }),
      startTestServer({ model: fixtureModel('all-types/model.onnx'), grpcPort: 0 }),
    ]);
  });
  after(async () => {
    await Promise.all([typed.close(), all.close()]);
  });

  test('typed contents in (each datatype in its InferTensorContents field), raw_output_contents out, exact', async () => {
    const client = wireClient(typed.grpcPort ?? 0);
    try {
      const samples = Object.entries(SAMPLES).filter(([, s]) => s.datatype !== 'FP16');
      const response = await client.call('ModelInfer', [
        [INFER.model_name, 'typed-types'],
        [INFER.id, 'req-7'],
        ...samples.map(([type, sample]) => inputTensor(`in_${type}`, sample, true)),
      ]);
      assert.equal(response.string(RESPONSE.model_name), 'typed-types');
      assert.equal(response.string(RESPONSE.model_version), '1');
      assert.equal(response.string(RESPONSE.id), 'req-7');
      const outputs = readOutputs(response);
      for (const [type, sample] of samples) {
        const output = outputs.get(`out_${type}`);
        assert.ok(output, type);
        assert.equal(output.datatype, sample.datatype);
        assert.deepEqual(output.shape, [2n, 3n]);
        assert.deepEqual(decodeRaw(sample.datatype, output.raw), sample.expected, type);
      }
    } finally {
      client.close();
    }
  });

  test('raw_input_contents in (FP16 included), and typed contents out with binary_data_output false', async () => {
    const client = wireClient(all.grpcPort ?? 0);
    try {
      const samples = Object.entries(SAMPLES);
      const raw = await client.call('ModelInfer', [
        [INFER.model_name, 'all-types'],
        ...samples.map(([type, sample]) => inputTensor(`in_${type}`, sample, false)),
        ...samples.map(([, sample]): WireField => [
          INFER.raw_input_contents,
          encodeRaw(sample.datatype, sample.values),
        ]),
      ]);
      const outputs = readOutputs(raw);
      for (const [type, sample] of samples)
        assert.deepEqual(
          decodeRaw(sample.datatype, outputs.get(`out_${type}`)?.raw ?? Buffer.alloc(0)),
          sample.expected,
          type,
        );

      const withoutFp16 = samples.filter(([, s]) => s.datatype !== 'FP16');
      const typedOut = await client.call('ModelInfer', [
        [INFER.model_name, 'all-types'],
        parameter(INFER.parameters, 'binary_data_output', [1, false]),
        ...samples.map(([type, sample]) => inputTensor(`in_${type}`, sample, false)),
        ...samples.map(([, sample]): WireField => [
          INFER.raw_input_contents,
          encodeRaw(sample.datatype, sample.values),
        ]),
        ...withoutFp16.map(([type]): WireField => [INFER.outputs, [[1, `out_${type}`]]]),
      ]);
      assert.deepEqual(typedOut.bytes(RESPONSE.raw_output_contents), []);
      for (const [i, output] of typedOut.messages(RESPONSE.outputs).entries()) {
        const [type, sample] = withoutFp16[i] ?? ['', SAMPLES.bool];
        assert.equal(output.string(TENSOR.name), `out_${type}`);
        const contents = output.message(TENSOR.contents);
        const field = CONTENTS[sample.datatype] ?? 0;
        assert.deepEqual(
          typedValues(sample.datatype, contents.bytes(field), contents, field),
          sample.expected,
          type,
        );
      }
    } finally {
      client.close();
    }
  });

  test('errors: the model is looked up first; repeated outputs, wrong types, bad values refused', async () => {
    const client = wireClient(typed.grpcPort ?? 0);
    try {
      // An unknown model is NOT_FOUND whatever its inputs: none, or ones no model could take.
      assertStatus(
        await client.fail('ModelInfer', [[INFER.model_name, 'nope']]),
        status.NOT_FOUND,
        'no model named "nope"',
      );
      assertStatus(
        await client.fail('ModelInfer', [
          [INFER.model_name, 'nope'],
          [
            INFER.inputs,
            [
              [TENSOR.name, 'x'],
              [TENSOR.datatype, 'NOT_A_TYPE'],
            ],
          ],
        ]),
        status.NOT_FOUND,
        'no model named "nope"',
      );
      assertStatus(
        await client.fail('ModelInfer', [
          [INFER.model_name, 'typed-types'],
          [INFER.model_version, '9'],
        ]),
        status.NOT_FOUND,
        'model "typed-types" has no version "9"',
      );
      const inputs = Object.entries(SAMPLES)
        .filter(([, s]) => s.datatype !== 'FP16')
        .map(([type, sample]) => inputTensor(`in_${type}`, sample, true));
      assertStatus(
        await client.fail('ModelInfer', [
          [INFER.model_name, 'typed-types'],
          ...inputs,
          [INFER.outputs, [[1, 'out_int8']]],
          [INFER.outputs, [[1, 'out_int8']]],
        ]),
        status.INVALID_ARGUMENT,
        'output "out_int8" is requested more than once',
      );
      assertStatus(
        await client.fail('ModelInfer', [[INFER.model_name, 'typed-types']]),
        status.INVALID_ARGUMENT,
        /inputs/,
      );
    } finally {
      client.close();
    }
  });
});

function makeRepository(): string {
  const repository = repositoryFolder('skiff-conformance-grpc-');
  repository.fixture('tabular-linear/model.onnx', 'linear', '1', 'model.onnx');
  repository.json(
    { batching: { maxBatchSize: 8, maxQueueDelayMs: 2, maxQueueSize: 16 } },
    'linear',
    'model.json',
  );
  repository.fixture('tiny-color-nhwc-uint8/model.onnx', 'color', 'model.onnx');
  repository.fixture('tiny-color-nhwc-uint8/labels.txt', 'color', 'labels.txt');
  repository.fixture('broken/model.onnx', 'broken', 'model.onnx');
  return repository.root;
}

describe('gRPC conformance: health, metadata, configuration, statistics, repository', () => {
  let strict: RunningServer;
  let lenient: RunningServer;
  before(async () => {
    const root = makeRepository();
    [strict, lenient] = await Promise.all([
      startTestServer({ model: 'unused', modelRepository: root, repositoryApi: true, grpcPort: 0 }),
      startTestServer({ model: 'unused', modelRepository: root, strictReadiness: false, grpcPort: 0 }),
    ]);
  });
  after(async () => {
    await Promise.all([strict.close(), lenient.close()]);
  });

  test('ServerLive, ServerReady (strict by default, lenient by option), ServerMetadata', async () => {
    const client = wireClient(strict.grpcPort ?? 0);
    const other = wireClient(lenient.grpcPort ?? 0);
    try {
      assert.equal((await client.call('ServerLive', [])).int(1), 1n);
      // A model failed to load: not ready, as Triton with --strict-readiness and the OIP mean it.
      assert.equal((await client.call('ServerReady', [])).int(1), 0n);
      assert.equal((await other.call('ServerReady', [])).int(1), 1n);
      const metadata = await client.call('ServerMetadata', []);
      assert.equal(metadata.string(1), 'skiff');
      assert.deepEqual(metadata.strings(3), [
        'binary_tensor_data',
        'classification',
        'model_configuration',
        'statistics',
        'model_repository',
      ]);
    } finally {
      client.close();
      other.close();
    }
  });

  test('ModelMetadata and ModelConfig by model_config.proto numbers, as Skiff serves the model', async () => {
    const client = wireClient(strict.grpcPort ?? 0);
    try {
      const metadata = await client.call('ModelMetadata', [[1, 'linear']]);
      assert.deepEqual(metadata.numbers(), [1, 2, 3, 4, 5]);
      assert.equal(metadata.string(3), 'onnxruntime_onnx');
      assert.deepEqual(metadata.strings(2), ['1']);
      const input = metadata.message(4);
      assert.deepEqual([input.string(1), input.string(2), input.ints(3, true)], ['X', 'FP32', [-1n, 4n]]);

      const config = (await client.call('ModelConfig', [[1, 'linear']])).message(1);
      assert.equal(config.string(1), 'linear');
      assert.equal(config.string(2), 'onnxruntime_onnx');
      assert.equal(config.string(17), 'onnxruntime');
      // Batching in model.json: max_batch_size, dims without the batch dimension, dynamic_batching.
      assert.equal(config.int(4), 8n);
      const configInput = config.message(5);
      assert.deepEqual(
        [configInput.string(1), configInput.int(2), configInput.ints(4, true)],
        ['X', BigInt(TYPE_ENUM.FP32 ?? 0), [4n]],
      );
      const configOutput = config.message(6);
      assert.deepEqual(
        [configOutput.string(1), configOutput.int(2), configOutput.ints(3, true)],
        ['score', 11n, [1n]],
      );
      const group = config.message(7);
      assert.deepEqual([group.int(4), group.int(2)], [2n, 1n], 'KIND_CPU, one instance per --workers');
      const batching = config.message(11);
      assert.equal(batching.int(2), 2000n, 'max_queue_delay_microseconds');
      assert.equal(batching.message(6).int(4), 16n, 'default_queue_policy.max_queue_size');
      assert.equal(config.message(3).message(1).int(1), 1n, 'version_policy.latest.num_versions');

      // No batching: max_batch_size 0 and the whole shape; an image input says its layout.
      const color = (await client.call('ModelConfig', [[1, 'color']])).message(1);
      assert.equal(color.int(4), 0n);
      assert.equal(color.fields.has(11), false);
      assert.equal(color.message(5).int(3), 1n, 'FORMAT_NHWC');
      assert.equal(color.message(5).ints(4, true)[0], -1n);

      assertStatus(
        await client.fail('ModelConfig', [[1, 'nope']]),
        status.NOT_FOUND,
        'no model named "nope"',
      );
      assertStatus(
        await client.fail('ModelConfig', [[1, 'broken']]),
        status.UNAVAILABLE,
        /^model "broken" is not loaded/,
      );
    } finally {
      client.close();
    }
  });

  test('ModelStatistics counts what ran: requests, rows, executions, per batch size, with durations', async () => {
    const client = wireClient(lenient.grpcPort ?? 0);
    try {
      const before = (await client.call('ModelStatistics', [[1, 'linear']])).message(1);
      assert.equal(before.int(4), 0n);
      for (let i = 0; i < 3; i++) {
        await client.call('ModelInfer', [
          [INFER.model_name, 'linear'],
          [
            INFER.inputs,
            [
              [1, 'X'],
              [2, 'FP32'],
              [3, { packed: [2, 4] }],
              [5, [[6, { packedFloat: [1, 1, 1, 1, 2, 2, 2, 2] }]]],
            ],
          ],
        ]);
      }
      const response = await client.call('ModelStatistics', [[1, 'linear']]);
      const [stats, ...others] = response.messages(1);
      assert.equal(others.length, 0);
      assert.ok(stats);
      assert.deepEqual([stats.string(1), stats.string(2)], ['linear', '1']);
      assert.ok(stats.int(3) > 1_700_000_000_000n, 'last_inference in ms since the epoch');
      assert.equal(stats.int(4), 6n, 'inference_count: rows');
      assert.equal(stats.int(5), 3n, 'execution_count');
      const inference = stats.message(6);
      assert.equal(inference.message(1).int(1), 3n, 'success.count');
      assert.ok(inference.message(1).int(2) > 0n, 'success.ns');
      assert.equal(inference.message(2).int(1), 0n, 'fail.count');
      assert.equal(inference.message(3).int(1), 3n, 'queue.count');
      assert.equal(inference.message(5).int(1), 3n, 'compute_infer.count');
      assert.ok(inference.message(5).int(2) > 0n, 'compute_infer.ns');
      const [batch] = stats.messages(7);
      assert.deepEqual(
        [batch?.int(1), batch?.message(3).int(1)],
        [2n, 3n],
        'batch_stats: size 2, 3 executions',
      );
      // An empty name is every model; an unknown one NOT_FOUND.
      const everyModel = (await client.call('ModelStatistics', [])).messages(1).map((m) => m.string(1));
      assert.deepEqual([...new Set(everyModel)].sort(), ['broken', 'color', 'linear']);
      assertStatus(
        await client.fail('ModelStatistics', [[1, 'nope']]),
        status.NOT_FOUND,
        'no model named "nope"',
      );
    } finally {
      client.close();
    }
  });

  test('repository: Triton numbering and KServe numbering; overrides refused; an unloaded model is not ready', async () => {
    const client = wireClient(strict.grpcPort ?? 0);
    try {
      const index = (ready: boolean): Promise<string[]> =>
        client
          .call('RepositoryIndex', ready ? [[2, true]] : [])
          .then((r) => r.messages(1).map((m) => `${m.string(1)}:${m.string(2)}:${m.string(3)}`));
      assert.deepEqual(await index(false), ['broken:1:UNAVAILABLE', 'color:1:READY', 'linear:1:READY']);
      assert.deepEqual(await index(true), ['color:1:READY', 'linear:1:READY']);

      // KServe's RepositoryModelUnloadRequest: model_name = 1; its answer: model_name = 1, isUnloaded = 2.
      const unloaded = await client.call('RepositoryModelUnload', [[1, 'color']]);
      assert.deepEqual([unloaded.string(1), unloaded.int(2)], ['color', 1n]);
      // Triton answers an unloaded model ready: false (its model-control example), not NOT_FOUND.
      assert.equal((await client.call('ModelReady', [[1, 'color']])).int(1), 0n);
      // Triton's RepositoryModelLoadRequest: repository_name = 1 (empty), model_name = 2.
      const loaded = await client.call('RepositoryModelLoad', [[2, 'color']]);
      assert.deepEqual([loaded.string(1), loaded.int(2)], ['color', 1n]);
      assert.equal((await client.call('ModelReady', [[1, 'color']])).int(1), 1n);

      // tritonclient's load_model(config=...) and files: a map<string, ModelRepositoryParameter> (string 3, bytes 4).
      assertStatus(
        await client.fail('RepositoryModelLoad', [
          [2, 'color'],
          [
            3,
            [
              [1, 'config'],
              [2, [[3, '{"max_batch_size": 4}']]],
            ],
          ],
          [
            3,
            [
              [1, 'file:1/model.onnx'],
              [2, [[4, Buffer.from('onnx')]]],
            ],
          ],
        ]),
        status.UNIMPLEMENTED,
        'Skiff loads a model as the repository holds it; a load with "config", "file:1/model.onnx" (a config or file override) is not supported: change the files under the repository and load again',
      );
      // unload_dependents (tritonclient sends it on every unload) is accepted.
      await client.call('RepositoryModelUnload', [
        [2, 'color'],
        [
          3,
          [
            [1, 'unload_dependents'],
            [2, [[1, false]]],
          ],
        ],
      ]);
      await client.call('RepositoryModelLoad', [[1, 'color']]);
      assert.equal((await client.call('ModelReady', [[1, 'color']])).int(1), 1n);
      assertStatus(
        await client.fail('RepositoryModelLoad', [[2, 'nope']]),
        status.NOT_FOUND,
        'no model named "nope" in the repository',
      );
    } finally {
      client.close();
    }
  });
});
