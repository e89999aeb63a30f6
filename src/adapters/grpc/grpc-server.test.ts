// The gRPC adapter over a real socket with a real grpc-js client, in front of our own fake model: no
// fixture model takes BOOL, INT64, BYTES and the other types, so an echo model checks every datatype
// on the wire (typed and raw, both directions). Real models are in test/integration/grpc.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { connect } from 'node:http2';
import type { Settings } from 'node:http2';
import type { DataType } from '../../core/tensor/data-type.js';
import type { TensorInfo } from '../../core/tensor/tensor.js';
import type { Logger } from '../../core/logger.js';
import type { RunningGrpcServer } from './grpc-server.js';
import type { InferenceClient } from '../../../test/helpers/grpc-client.js';
import { InferenceService } from '../../core/inference-service.js';
import { ServedModel } from '../../core/registry/served-model.js';
import { FakeImageCodec } from '../../core/testing/fake-image-codec.js';
import { FakeLoadedModel, fail } from '../../core/testing/fake-loaded-model.js';
import { FakeRuntime } from '../../core/testing/fake-runtime.js';
import { tensorToRaw } from '../../core/tensor/raw-tensor.js';
import { tensorFromContents } from './tensor-contents.js';
import { testLimits } from '../../core/testing/test-limits.js';
import { ERROR_CODE_KEY, NOT_READY_REASON_KEY, startGrpcServer } from './grpc-server.js';
import { inferenceClient } from '../../../test/helpers/grpc-client.js';
import { RawMessage } from './raw-message.js';
import { GRPC_FLOW_WINDOW_BYTES } from './widen-flow-windows.js';

/** One input per datatype that has a typed contents field, the values at the edges of each type. */
const TYPED: readonly { name: string; datatype: DataType; field: string; values: unknown[] }[] = [
  { name: 'b', datatype: 'BOOL', field: 'bool_contents', values: [true, false, true] },
  { name: 'u8', datatype: 'UINT8', field: 'uint_contents', values: [0, 128, 255] },
  { name: 'u16', datatype: 'UINT16', field: 'uint_contents', values: [0, 1000, 65535] },
  { name: 'u32', datatype: 'UINT32', field: 'uint_contents', values: [0, 70000, 4294967295] },
  {
    name: 'u64',
    datatype: 'UINT64',
    field: 'uint64_contents',
    values: ['0', '9007199254740993', '18446744073709551615'],
  },
  { name: 'i8', datatype: 'INT8', field: 'int_contents', values: [-128, 0, 127] },
  { name: 'i16', datatype: 'INT16', field: 'int_contents', values: [-32768, 5, 32767] },
  { name: 'i32', datatype: 'INT32', field: 'int_contents', values: [-2147483648, 7, 2147483647] },
  {
    name: 'i64',
    datatype: 'INT64',
    field: 'int64_contents',
    values: ['-9223372036854775808', '-9007199254740993', '9223372036854775807'],
  },
  { name: 'f32', datatype: 'FP32', field: 'fp32_contents', values: [-1.5, 0, 3.25] },
  { name: 'f64', datatype: 'FP64', field: 'fp64_contents', values: [Math.PI, -1e300, 5e-324] },
  {
    name: 's',
    datatype: 'BYTES',
    field: 'bytes_contents',
    values: [Buffer.from('héllo'), Buffer.alloc(0), Buffer.from([0, 255, 10])],
  },
];

const info = (name: string, type: DataType): TensorInfo => ({ name, type, shape: [-1] });

async function served(
  name: string,
  inputs: readonly TensorInfo[],
  model: FakeLoadedModel = new FakeLoadedModel(inputs, inputs),
): Promise<ServedModel> {
  const result = new ServedModel({
    name,
    modelPath: `/models/${name}.onnx`,
    config: {},
    labels: undefined,
    runtimeOptions: { workers: 1, threadsPerWorker: 1 },
    maxQueueSize: 8,
  });
  await result.load(new FakeRuntime(() => Promise.resolve(model)), () => 0);
  return result;
}

const typedInputs = (): object[] =>
  TYPED.map(({ name, datatype, field, values }) => ({
    name,
    datatype,
    shape: [3],
    contents: { [field]: values },
  }));

describe('gRPC adapter with an echo model of every datatype', () => {
  const logged: { message: string; fields: Record<string, unknown> | undefined }[] = [];
  const logger: Logger = {
    info: () => undefined,
    warn: () => undefined,
    debug: () => undefined,
    error: (message, fields) => logged.push({ message, fields }),
  };
  const service = new InferenceService(
    new FakeImageCodec({ width: 1, height: 1, pixels: new Uint8Array(3) }),
    testLimits({ maxImagePixels: 100, maxTopK: 10, maxTensorElements: 1000 }),
  );
  let server: RunningGrpcServer;
  let client: InferenceClient;

  before(async () => {
    service.models.add(
      await served(
        'echo',
        TYPED.map((t) => info(t.name, t.datatype)),
      ),
    );
    service.models.add(await served('half', [info('h', 'FP16')]));
    service.models.add(await served('bytes', [info('s', 'BYTES')]));
    const failing = new FakeLoadedModel([info('x', 'FP32')], [info('y', 'FP32')]);
    service.models.add(await served('crashy', [info('x', 'FP32')], failing));
    failing.respond = fail(new Error('secret detail /var/lib/model.onnx'));
    server = await startGrpcServer(service, { host: '127.0.0.1', port: 0, logger, maxMessageBytes: 1 << 20 });
    client = inferenceClient(server.port);
  });

  after(async () => {
    client.close();
    await server.close();
  });

  test('typed contents in, typed contents out (binary_data_output false): every value exact', async () => {
    const response = await client.call('ModelInfer', {
      model_name: 'echo',
      id: 'typed-1',
      inputs: typedInputs(),
      parameters: { binary_data_output: { bool_param: false } },
    });
    assert.equal(response.id, 'typed-1');
    assert.deepEqual(response.raw_output_contents, []);
    assert.deepEqual(
      response.outputs.map((o) => o.name),
      TYPED.map((t) => t.name),
    );
    for (const [i, expected] of TYPED.entries()) {
      const output = response.outputs[i];
      assert.ok(output);
      assert.equal(output.datatype, expected.datatype);
      assert.deepEqual(output.shape, ['3']);
      assert.deepEqual(output.contents?.[expected.field], expected.values, expected.name);
    }
  });

  test('typed contents in, raw contents out (the default): the raw bytes decode to the same values', async () => {
    const response = await client.call('ModelInfer', {
      model_name: 'echo',
      inputs: typedInputs(),
    });
    assert.equal(response.raw_output_contents.length, TYPED.length);
    for (const [i, expected] of TYPED.entries()) {
      const output = response.outputs[i];
      const raw = response.raw_output_contents[i];
      assert.ok(output && raw);
      // The spec forbids typed contents beside raw ones.
      assert.equal(output.contents, null);
      const want = tensorFromContents(expected.name, expected.datatype, [3], {
        [expected.field]: expected.values,
      });
      assert.deepEqual(raw, Buffer.from(tensorToRaw(want)), expected.name);
    }
  });

  test('raw contents in, raw contents out: byte for byte, BYTES length-prefixed', async () => {
    const raws = TYPED.map((t) =>
      Buffer.from(tensorToRaw(tensorFromContents(t.name, t.datatype, [3], { [t.field]: t.values }))),
    );
    const response = await client.call('ModelInfer', {
      model_name: 'echo',
      inputs: TYPED.map(({ name, datatype }) => ({ name, datatype, shape: [3] })),
      raw_input_contents: raws,
    });
    assert.deepEqual(response.raw_output_contents, raws);
    const bytes = response.raw_output_contents[TYPED.length - 1];
    assert.deepEqual(
      bytes,
      Buffer.from([6, 0, 0, 0, ...Buffer.from('héllo'), 0, 0, 0, 0, 3, 0, 0, 0, 0, 255, 10]),
    );
  });

  test("a large request's message is freed when its call ends, after the answer was built from its BYTES (views into it)", async () => {
    const element = Buffer.alloc(40_000, 7);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(element.length);
    const raw = Buffer.concat([length, element]);
    // What each message's buffer holds once its call has ended: 0 once freed (detached).
    const left: number[] = [];
    const release = Object.getOwnPropertyDescriptor(RawMessage.prototype, 'release')?.value as () => void;
    RawMessage.prototype.release = function (this: RawMessage): void {
      release.call(this);
      left.push(this.bytes.buffer.byteLength);
    };
    try {
      const response = await client.call('ModelInfer', {
        model_name: 'bytes',
        inputs: [{ name: 's', datatype: 'BYTES', shape: [1] }],
        raw_input_contents: [raw],
      });
      assert.deepEqual(response.raw_output_contents, [raw]);
    } finally {
      RawMessage.prototype.release = release;
    }
    assert.deepEqual(left, [0], 'the message buffer grpc-js handed over was freed');
  });

  test('a client may send 1 MiB, on one call and on the connection, before it waits for us', async () => {
    const session = connect(`http://127.0.0.1:${server.port}`);
    try {
      const settings = await new Promise<Settings>((resolve, reject) => {
        session.once('remoteSettings', resolve);
        session.once('error', reject);
      });
      assert.equal(settings.initialWindowSize, GRPC_FLOW_WINDOW_BYTES, 'the stream window in our SETTINGS');
      // The connection window grows by a WINDOW_UPDATE that follows the SETTINGS.
      for (let turn = 0; turn < 50 && session.state.remoteWindowSize !== GRPC_FLOW_WINDOW_BYTES; turn++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(session.state.remoteWindowSize, GRPC_FLOW_WINDOW_BYTES, 'the connection window');
    } finally {
      session.destroy();
    }
  });

  test('FP16 travels raw; typed FP16 is refused both ways', async () => {
    const half = Buffer.from([0x00, 0x3c, 0x00, 0xc0]); // 1.0, -2.0
    const response = await client.call('ModelInfer', {
      model_name: 'half',
      inputs: [{ name: 'h', datatype: 'FP16', shape: [2] }],
      raw_input_contents: [half],
    });
    assert.deepEqual(response.raw_output_contents, [half]);
    const typedIn = await client.fail('ModelInfer', {
      model_name: 'half',
      inputs: [{ name: 'h', datatype: 'FP16', shape: [1], contents: { fp32_contents: [1] } }],
    });
    assert.equal(typedIn.code, status.INVALID_ARGUMENT);
    assert.match(
      typedIn.details,
      /input "h": FP16 has no typed contents field; send it in raw_input_contents/,
    );
    const typedOut = await client.fail('ModelInfer', {
      model_name: 'half',
      inputs: [{ name: 'h', datatype: 'FP16', shape: [2] }],
      raw_input_contents: [half],
      parameters: { binary_data_output: { bool_param: false } },
    });
    assert.equal(typedOut.code, status.INVALID_ARGUMENT);
    assert.match(typedOut.details, /output "h" is FP16, which has no typed contents field/);
  });

  test('an integer outside its type is INVALID_ARGUMENT naming the element', async () => {
    const inputs = typedInputs().map((input, i) =>
      i === 1
        ? { name: 'u8', datatype: 'UINT8', shape: [3], contents: { uint_contents: [1, 256, 2] } }
        : input,
    );
    const error = await client.fail('ModelInfer', { model_name: 'echo', inputs });
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.details, 'input "u8": element 1 is 256, expected an integer from 0 to 255 for UINT8');
    assert.deepEqual(error.metadata.get(ERROR_CODE_KEY), ['SKIFF_BAD_TENSOR']);
  });

  test('a runtime failure is INTERNAL with a generic message; the cause is only logged', async () => {
    const error = await client.fail('ModelInfer', {
      model_name: 'crashy',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }],
    });
    assert.equal(error.code, status.INTERNAL);
    assert.match(error.details, /^internal error \(request [0-9a-f-]{36}\); see the server log$/);
    assert.doesNotMatch(error.details, /secret/);
    const entry = logged.at(-1);
    assert.equal(entry?.message, 'gRPC call failed');
    assert.match(String(entry.fields?.error), /secret detail/);
    assert.ok(error.details.includes(String(entry.fields?.requestId)));
  });

  test('a model still loading: ModelReady and ServerReady false with the reason, ModelInfer UNAVAILABLE', async () => {
    const loading = new ServedModel({
      name: 'later',
      modelPath: '/models/later.onnx',
      config: {},
      labels: undefined,
      runtimeOptions: { workers: 1, threadsPerWorker: 1 },
      maxQueueSize: 8,
    });
    service.models.add(loading);
    try {
      const model = await client.callWithTrailers('ModelReady', { name: 'later' });
      assert.equal(model.response.ready, false);
      assert.deepEqual(model.trailers.get(NOT_READY_REASON_KEY), [
        'model "later" is loading: loading the model',
      ]);
      assert.deepEqual(await client.call('ModelReady', { name: 'echo' }), { ready: true });
      const server = await client.callWithTrailers('ServerReady', {});
      assert.equal(server.response.ready, false);
      assert.deepEqual(server.trailers.get(NOT_READY_REASON_KEY), [
        'model "later" is loading: loading the model',
      ]);
      const error = await client.fail('ModelInfer', {
        model_name: 'later',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }],
      });
      assert.equal(error.code, status.UNAVAILABLE);
      assert.equal(error.details, 'model "later" is not ready (loading: loading the model)');
    } finally {
      loading.state = 'ready';
    }
  });
});
