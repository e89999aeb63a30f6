// Open Inference Protocol v2 over gRPC against the real server, the real ONNX runtime, fixture and real
// models, with a real grpc-js client built from the same .proto. Datatypes no model here takes are
// covered in src/adapters/grpc/grpc-server.test.ts (echo model) and tensor-contents.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import type { RunningServer } from '../../src/server.js';
import type { RunningGrpcServer } from '../../src/adapters/grpc/grpc-server.js';
import type { InferenceClient, InferResponseMessage } from '../helpers/grpc-client.js';
import { silentLogger } from '../../src/core/logger.js';
import { startGrpcServer } from '../../src/adapters/grpc/grpc-server.js';
import { ERROR_TABLE } from '../../src/adapters/error-table.js';
import { IMAGENET_LABELS, defaultModel, fixtureModel, repoRoot, testImage } from '../helpers/paths.js';
import { startTestServer } from '../helpers/test-server.js';
import { float32ToRaw, inferenceClient, rawToFloat32, rawToStrings } from '../helpers/grpc-client.js';

interface RestResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[];
}

interface Served {
  readonly http: RunningServer;
  readonly grpc: RunningGrpcServer;
  readonly client: InferenceClient;
}

async function serve(config: Parameters<typeof startTestServer>[0]): Promise<Served> {
  const http = await startTestServer(config);
  const grpc = await startGrpcServer(http.service, {
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    maxMessageBytes: 8 * 1024 * 1024,
  });
  return { http, grpc, client: inferenceClient(grpc.port) };
}

async function stop(served: Served | undefined): Promise<void> {
  if (served === undefined) return;
  served.client.close();
  await served.grpc.close();
  await served.http.close();
}

async function restInfer(served: Served, model: string, body: object): Promise<RestResponse> {
  const response = await fetch(`${served.http.url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as RestResponse;
}

function assertError(error: ServiceError, code: status, details: string | RegExp): void {
  assert.equal(status[error.code], status[code], error.details);
  if (typeof details === 'string') assert.equal(error.details, details);
  else assert.match(error.details, details);
}

/** The hotdog photo the torchvision way: shorter side 256, centre crop 224, ImageNet mean/std, NCHW. */
async function hotdogTensor(): Promise<Float32Array> {
  const resized = await sharp(testImage('hotdog.jpg'))
    .removeAlpha()
    .resize({ width: 256, height: 256, fit: 'outside' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = resized.info;
  const pixels = await sharp(resized.data, { raw: { width, height, channels: 3 } })
    .extract({
      left: Math.floor((width - 224) / 2),
      top: Math.floor((height - 224) / 2),
      width: 224,
      height: 224,
    })
    .raw()
    .toBuffer();
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const out = new Float32Array(3 * 224 * 224);
  for (let i = 0; i < 224 * 224; i++) {
    for (let c = 0; c < 3; c++) {
      out[c * 224 * 224 + i] = ((pixels[i * 3 + c] ?? 0) / 255 - (mean[c] ?? 0)) / (std[c] ?? 1);
    }
  }
  return out;
}

const X = [1, 1, 1, 1, 0, 0, 0, 1]; // rows · [1,2,3,4] + 0.5 = 10.5, 4.5

describe('gRPC: tabular-linear (X FP32 [N,4] -> score FP32 [N,1])', () => {
  let served: Served;
  let client: InferenceClient;
  const typedX = (values = X, shape = [2, 4]): object => ({
    name: 'X',
    datatype: 'FP32',
    shape,
    contents: { fp32_contents: values },
  });

  before(async () => {
    served = await serve({ model: fixtureModel('tabular-linear') });
    client = served.client;
  });
  after(() => stop(served));

  test('ServerLive, ServerReady', async () => {
    assert.deepEqual(await client.call('ServerLive', {}), { live: true });
    const ready = await client.callWithTrailers('ServerReady', {});
    assert.deepEqual(ready.response, { ready: true });
    assert.deepEqual(ready.trailers.get('skiff-not-ready-reason'), []);
  });

  test('ServerMetadata', async () => {
    const metadata = await client.call('ServerMetadata', {});
    const pkg = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as {
      version: string;
    };
    assert.deepEqual(metadata, {
      name: 'skiff',
      version: pkg.version,
      extensions: ['binary_tensor_data', 'classification', 'model_configuration', 'statistics'],
    });
  });

  test('ModelMetadata with and without a version; -1 marks the dynamic batch', async () => {
    const expected = {
      name: 'tabular-linear',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'X', datatype: 'FP32', shape: ['-1', '4'] }],
      outputs: [{ name: 'score', datatype: 'FP32', shape: ['-1', '1'] }],
    };
    assert.deepEqual(await client.call('ModelMetadata', { name: 'tabular-linear' }), expected);
    assert.deepEqual(await client.call('ModelMetadata', { name: 'tabular-linear', version: '1' }), expected);
  });

  test('ModelReady for the model (and its version)', async () => {
    assert.deepEqual(await client.call('ModelReady', { name: 'tabular-linear' }), { ready: true });
    assert.deepEqual(await client.call('ModelReady', { name: 'tabular-linear', version: '1' }), {
      ready: true,
    });
  });

  test('ModelInfer, typed contents in: raw_output_contents out, id and version echoed', async () => {
    const response = await client.call('ModelInfer', {
      model_name: 'tabular-linear',
      model_version: '1',
      id: 'req-42',
      inputs: [typedX()],
    });
    assert.equal(response.model_name, 'tabular-linear');
    assert.equal(response.model_version, '1');
    assert.equal(response.id, 'req-42');
    assert.deepEqual(
      response.outputs.map(({ name, datatype, shape, contents }) => ({ name, datatype, shape, contents })),
      [{ name: 'score', datatype: 'FP32', shape: ['2', '1'], contents: null }],
    );
    assert.equal(response.raw_output_contents.length, 1);
    assert.deepEqual(rawToFloat32(response.raw_output_contents[0] ?? Buffer.alloc(0)), [10.5, 4.5]);
  });

  test('ModelInfer, raw_input_contents in; typed contents out with binary_data_output false', async () => {
    const response = await client.call('ModelInfer', {
      model_name: 'tabular-linear',
      inputs: [{ name: 'X', datatype: 'FP32', shape: [2, 4] }],
      raw_input_contents: [float32ToRaw(X)],
      parameters: { binary_data_output: { bool_param: false } },
    });
    assert.equal(response.id, '');
    assert.deepEqual(response.raw_output_contents, []);
    assert.deepEqual(response.outputs[0]?.contents?.fp32_contents, [10.5, 4.5]);
  });

  test('outputs selection: the output asked for, classified or not; the same output twice is refused', async () => {
    const classified = await client.call('ModelInfer', {
      model_name: 'tabular-linear',
      inputs: [typedX()],
      outputs: [{ name: 'score', parameters: { classification: { int64_param: 1 } } }],
    });
    assert.deepEqual(
      classified.outputs.map((o) => [o.name, o.datatype, o.shape]),
      [['score', 'BYTES', ['2', '1']]],
    );
    // No labels: "value:index".
    assert.deepEqual(rawToStrings(classified.raw_output_contents[0] ?? Buffer.alloc(0)), ['10.5:0', '4.5:0']);
    const plain = await client.call('ModelInfer', {
      model_name: 'tabular-linear',
      inputs: [typedX()],
      outputs: [{ name: 'score' }],
    });
    assert.deepEqual(
      plain.outputs.map((o) => [o.name, o.datatype, o.shape]),
      [['score', 'FP32', ['2', '1']]],
    );
    assert.deepEqual(rawToFloat32(plain.raw_output_contents[0] ?? Buffer.alloc(0)), [10.5, 4.5]);
    const error = await client
      .call('ModelInfer', {
        model_name: 'tabular-linear',
        inputs: [typedX()],
        outputs: [{ name: 'score', parameters: { classification: { int64_param: 1 } } }, { name: 'score' }],
      })
      .then(
        () => assert.fail('a repeated output was accepted'),
        (thrown: unknown) => thrown as ServiceError,
      );
    assertError(error, status.INVALID_ARGUMENT, 'output "score" is requested more than once');
  });

  test('the same request gives the same answer through REST and gRPC', async () => {
    const rest = await restInfer(served, 'tabular-linear', {
      id: 'same',
      inputs: [{ name: 'X', datatype: 'FP32', shape: [2, 4], data: [0.1, -2, 3.75, 1e-3, 7, 8, 9, -10] }],
    });
    const grpc = await client.call('ModelInfer', {
      model_name: 'tabular-linear',
      id: 'same',
      inputs: [typedX([0.1, -2, 3.75, 1e-3, 7, 8, 9, -10])],
      parameters: { binary_data_output: { bool_param: false } },
    });
    const raw = await client.call('ModelInfer', {
      model_name: 'tabular-linear',
      id: 'same',
      inputs: [{ name: 'X', datatype: 'FP32', shape: [2, 4] }],
      raw_input_contents: [float32ToRaw([0.1, -2, 3.75, 1e-3, 7, 8, 9, -10])],
    });
    const fromGrpc = (response: InferResponseMessage, data: (i: number) => unknown[]): RestResponse => ({
      model_name: response.model_name,
      model_version: response.model_version,
      id: response.id,
      outputs: response.outputs.map((o, i) => ({
        name: o.name,
        datatype: o.datatype,
        shape: o.shape.map(Number),
        data: data(i),
      })),
    });
    assert.deepEqual(
      fromGrpc(grpc, (i) => grpc.outputs[i]?.contents?.fp32_contents ?? []),
      rest,
    );
    assert.deepEqual(
      fromGrpc(raw, (i) => rawToFloat32(raw.raw_output_contents[i] ?? Buffer.alloc(0))),
      rest,
    );
  });

  test('unknown model: NOT_FOUND on ModelInfer, ModelMetadata and ModelReady', async () => {
    const message = 'no model named "nope"';
    assertError(
      await client.fail('ModelInfer', { model_name: 'nope', inputs: [typedX()] }),
      status.NOT_FOUND,
      message,
    );
    assertError(await client.fail('ModelMetadata', { name: 'nope' }), status.NOT_FOUND, message);
    assertError(await client.fail('ModelReady', { name: 'nope' }), status.NOT_FOUND, message);
    assertError(
      await client.fail('ModelReady', { name: 'tabular-linear', version: '7' }),
      status.NOT_FOUND,
      'model "tabular-linear" has no version "7"',
    );
    assertError(
      await client.fail('ModelInfer', {
        model_name: 'tabular-linear',
        model_version: '7',
        inputs: [typedX()],
      }),
      status.NOT_FOUND,
      'model "tabular-linear" has no version "7"',
    );
  });

  const invalid: [string, object, string | RegExp][] = [
    ['no model_name', { inputs: [typedX()] }, 'model_name is required'],
    ['no inputs', { model_name: 'tabular-linear', inputs: [] }, 'the request has no inputs'],
    [
      'an input the model does not have (X missing)',
      { model_name: 'tabular-linear', inputs: [{ ...typedX(), name: 'Y' }] },
      'model "tabular-linear" has no input "Y"; inputs: X',
    ],
    [
      'wrong shape',
      { model_name: 'tabular-linear', inputs: [typedX([1, 2, 3, 4, 5, 6], [2, 3])] },
      'input "X" has shape [2,3] but the model takes [-1,4]',
    ],
    [
      'wrong datatype',
      {
        model_name: 'tabular-linear',
        inputs: [{ name: 'X', datatype: 'FP64', shape: [1, 4], contents: { fp64_contents: [1, 2, 3, 4] } }],
      },
      'input "X" must be FP32, got FP64',
    ],
    [
      'an unknown datatype',
      { model_name: 'tabular-linear', inputs: [{ ...typedX(), datatype: 'FLOAT32' }] },
      /^input "X": datatype "FLOAT32" is not one of BOOL, UINT8/,
    ],
    [
      'contents in the field of another datatype',
      {
        model_name: 'tabular-linear',
        inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 4], contents: { int_contents: [1, 2, 3, 4] } }],
      },
      'input "X": FP32 data goes in contents.fp32_contents, got contents.int_contents',
    ],
    [
      'too few typed values for the shape',
      { model_name: 'tabular-linear', inputs: [typedX([1, 2, 3], [1, 4])] },
      'input "X": 3 values in contents.fp32_contents do not fit shape [1,4] (4 expected)',
    ],
    [
      'an input with no data at all',
      { model_name: 'tabular-linear', inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 4] }] },
      'input "X" has no data: fill its contents or send raw_input_contents',
    ],
    [
      'raw contents of the wrong length',
      {
        model_name: 'tabular-linear',
        inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 4] }],
        raw_input_contents: [Buffer.alloc(15)],
      },
      'input "X": 15 bytes of binary data do not fit shape [1,4] of FP32 (16 bytes expected)',
    ],
    [
      'more raw entries than inputs',
      {
        model_name: 'tabular-linear',
        inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 4] }],
        raw_input_contents: [Buffer.alloc(16), Buffer.alloc(16)],
      },
      'raw_input_contents has 2 entries for 1 inputs; send one per input, in input order',
    ],
    [
      'typed contents beside raw ones',
      {
        model_name: 'tabular-linear',
        inputs: [typedX([1, 2, 3, 4], [1, 4])],
        raw_input_contents: [Buffer.alloc(16)],
      },
      'input "X" has typed contents but the request uses raw_input_contents; use one or the other for all inputs',
    ],
    [
      'an output the model does not have',
      { model_name: 'tabular-linear', inputs: [typedX()], outputs: [{ name: 'proba' }] },
      'model "tabular-linear" has no output "proba"; outputs: score',
    ],
    [
      'classification as a string',
      {
        model_name: 'tabular-linear',
        inputs: [typedX()],
        outputs: [{ name: 'score', parameters: { classification: { string_param: '3' } } }],
      },
      'output "score": classification must be an int64_param (how many classes to return)',
    ],
    [
      'classification 0',
      {
        model_name: 'tabular-linear',
        inputs: [typedX()],
        outputs: [{ name: 'score', parameters: { classification: { int64_param: 0 } } }],
      },
      'output "score": classification must be a positive integer',
    ],
  ];
  for (const [title, request, details] of invalid) {
    test(`INVALID_ARGUMENT: ${title}`, async () => {
      assertError(await client.fail('ModelInfer', request), status.INVALID_ARGUMENT, details);
    });
  }

  test('repository RPCs on a server started with --model: UNIMPLEMENTED, saying why', async () => {
    for (const rpc of ['RepositoryIndex', 'RepositoryModelLoad', 'RepositoryModelUnload']) {
      const error = await client.fail(rpc, { model_name: 'tabular-linear' });
      assertError(
        error,
        status.UNIMPLEMENTED,
        'this server serves one model (--model); start it with --model-repository to use the repository API',
      );
      assert.deepEqual(error.metadata.get('skiff-error-code'), ['SKIFF_NO_REPOSITORY']);
    }
  });

  test('a message over maxMessageBytes: RESOURCE_EXHAUSTED', async () => {
    const small = await startGrpcServer(served.http.service, {
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      maxMessageBytes: 1024,
    });
    const smallClient = inferenceClient(small.port);
    try {
      const rows = 100;
      const error = await smallClient.fail('ModelInfer', {
        model_name: 'tabular-linear',
        inputs: [
          typedX(
            Array.from({ length: rows * 4 }, () => 1),
            [rows, 4],
          ),
        ],
      });
      assertError(error, status.RESOURCE_EXHAUSTED, /message larger than max/i);
    } finally {
      smallClient.close();
      await small.close();
    }
  });

  test('the port in use: SKIFF_PORT_IN_USE', async () => {
    await assert.rejects(
      startGrpcServer(served.http.service, {
        host: '127.0.0.1',
        port: served.grpc.port,
        logger: silentLogger,
        maxMessageBytes: 1024,
      }),
      { code: 'SKIFF_PORT_IN_USE' },
    );
  });
});

describe('gRPC: tiny-color-nhwc-uint8 (UINT8 [N,8,8,3])', () => {
  let served: Served | undefined;
  const pixels = Array.from({ length: 8 * 8 * 3 }, (_, i) => (i * 37) % 256);

  before(async () => {
    served = await serve({ model: fixtureModel('tiny-color-nhwc-uint8') });
  });
  after(() => stop(served));

  test('UINT8 typed (uint_contents), raw, and REST JSON agree', async () => {
    assert.ok(served);
    const model = 'tiny-color-nhwc-uint8';
    const typed = await served.client.call('ModelInfer', {
      model_name: model,
      inputs: [
        { name: 'input', datatype: 'UINT8', shape: [1, 8, 8, 3], contents: { uint_contents: pixels } },
      ],
    });
    const raw = await served.client.call('ModelInfer', {
      model_name: model,
      inputs: [{ name: 'input', datatype: 'UINT8', shape: [1, 8, 8, 3] }],
      raw_input_contents: [Buffer.from(pixels)],
    });
    const rest = await restInfer(served, model, {
      inputs: [{ name: 'input', datatype: 'UINT8', shape: [1, 8, 8, 3], data: pixels }],
    });
    assert.deepEqual(typed.raw_output_contents, raw.raw_output_contents);
    assert.deepEqual(typed.outputs[0]?.shape, ['1', '5']);
    assert.deepEqual(rawToFloat32(raw.raw_output_contents[0] ?? Buffer.alloc(0)), rest.outputs[0]?.data);
  });

  test('a UINT8 value over 255 is INVALID_ARGUMENT', async () => {
    assert.ok(served);
    const error = await served.client.fail('ModelInfer', {
      model_name: 'tiny-color-nhwc-uint8',
      inputs: [
        {
          name: 'input',
          datatype: 'UINT8',
          shape: [1, 8, 8, 3],
          contents: { uint_contents: pixels.map(() => 300) },
        },
      ],
    });
    assertError(
      error,
      status.INVALID_ARGUMENT,
      'input "input": element 0 is 300, expected an integer from 0 to 255 for UINT8',
    );
  });
});

describe('gRPC: classification on MobileNet V2 with ImageNet labels', () => {
  let served: Served | undefined;
  let photo: Float32Array;

  before(async () => {
    photo = await hotdogTensor();
    served = await serve({
      model: defaultModel(),
      labels: IMAGENET_LABELS(),
      name: 'mobilenet',
    });
  });
  after(() => stop(served));

  test('classification 5 on logits: hotdog first, "value:index:label", largest first', async () => {
    assert.ok(served);
    const response = await served.client.call('ModelInfer', {
      model_name: 'mobilenet',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 224, 224] }],
      raw_input_contents: [Buffer.from(photo.buffer)],
      outputs: [{ name: 'logits', parameters: { classification: { int64_param: 5 } } }],
    });
    assert.deepEqual(
      response.outputs.map((o) => [o.name, o.datatype, o.shape]),
      [['logits', 'BYTES', ['1', '5']]],
    );
    const classes = rawToStrings(response.raw_output_contents[0] ?? Buffer.alloc(0));
    assert.equal(classes.length, 5);
    assert.match(classes[0] ?? '', /^-?\d+(\.\d+)?(e[+-]?\d+)?:934:hotdog$/);
    const values = classes.map((c) => Number(c.split(':')[0]));
    assert.deepEqual(
      values,
      [...values].sort((a, b) => b - a),
    );
  });

  test('REST and gRPC give the same classification strings and the same logits', async () => {
    assert.ok(served);
    const input = { name: 'input', datatype: 'FP32', shape: [1, 3, 224, 224] };
    const contents = { contents: { fp32_contents: Array.from(photo) } };
    const restClasses = await restInfer(served, 'mobilenet', {
      inputs: [{ ...input, data: Array.from(photo) }],
      outputs: [{ name: 'logits', parameters: { classification: 5 } }],
    });
    const restLogits = await restInfer(served, 'mobilenet', {
      inputs: [{ ...input, data: Array.from(photo) }],
      outputs: [{ name: 'logits' }],
    });
    const grpcClasses = await served.client.call('ModelInfer', {
      model_name: 'mobilenet',
      inputs: [{ ...input, ...contents }],
      outputs: [{ name: 'logits', parameters: { classification: { int64_param: 5 } } }],
    });
    const grpcLogits = await served.client.call('ModelInfer', {
      model_name: 'mobilenet',
      inputs: [{ ...input, ...contents }],
      outputs: [{ name: 'logits' }],
    });
    assert.deepEqual(
      rawToStrings(grpcClasses.raw_output_contents[0] ?? Buffer.alloc(0)),
      restClasses.outputs[0]?.data,
    );
    assert.deepEqual(
      rawToFloat32(grpcLogits.raw_output_contents[0] ?? Buffer.alloc(0)),
      restLogits.outputs[0]?.data,
    );
  });
});

describe('gRPC: repository RPCs on a --model-repository server', () => {
  let served: Served | undefined;
  let locked: Served | undefined;

  before(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-grpc-repo-'));
    for (const name of ['tabular-linear', 'tiny-color']) {
      mkdirSync(path.join(dir, name));
      copyFileSync(path.join(fixtureModel(name), 'model.onnx'), path.join(dir, name, 'model.onnx'));
    }
    served = await serve({ model: dir, modelRepository: dir, repositoryApi: true });
    locked = await serve({ model: dir, modelRepository: dir, repositoryApi: false });
  });
  after(async () => {
    await stop(served);
    await stop(locked);
  });

  test('RepositoryIndex, RepositoryModelUnload, RepositoryModelLoad, with ModelReady following', async () => {
    assert.ok(served);
    const { client } = served;
    const ready = [
      { name: 'tabular-linear', version: '1', state: 'READY', reason: '' },
      { name: 'tiny-color', version: '1', state: 'READY', reason: '' },
    ];
    assert.deepEqual(await client.call('RepositoryIndex', {}), { models: ready });
    // The answers carry KServe's fields too (Triton's clients skip them); an unloaded model is not ready,
    // not unknown, as Triton answers.
    assert.deepEqual(await client.call('RepositoryModelUnload', { model_name: 'tiny-color' }), {
      model_name: 'tiny-color',
      isUnloaded: true,
    });
    assert.deepEqual(await client.call('ModelReady', { name: 'tiny-color' }), { ready: false });
    assert.deepEqual(await client.call('RepositoryIndex', {}), {
      models: [ready[0], { name: 'tiny-color', version: '', state: 'UNAVAILABLE', reason: 'unloaded' }],
    });
    assert.deepEqual(await client.call('RepositoryIndex', { ready: true }), { models: [ready[0]] });
    assert.deepEqual(await client.call('RepositoryModelLoad', { model_name: 'tiny-color' }), {
      model_name: 'tiny-color',
      isLoaded: true,
    });
    assert.deepEqual(await client.call('ModelReady', { name: 'tiny-color' }), { ready: true });
    assert.deepEqual(await client.call('RepositoryIndex', {}), { models: ready });
  });

  test('repository errors: unknown model NOT_FOUND, config override UNIMPLEMENTED, no model_name INVALID_ARGUMENT', async () => {
    assert.ok(served);
    const { client } = served;
    assertError(
      await client.fail('RepositoryModelLoad', { model_name: 'nope' }),
      status.NOT_FOUND,
      'no model named "nope" in the repository',
    );
    assertError(
      await client.fail('RepositoryModelLoad', {
        model_name: 'tiny-color',
        parameters: { config: { string_param: '{}' } },
      }),
      status.UNIMPLEMENTED,
      'Skiff loads a model as the repository holds it; a load with "config" (a config or file override) is not supported: change the files under the repository and load again',
    );
    assertError(
      await client.fail('RepositoryModelUnload', {}),
      status.INVALID_ARGUMENT,
      'model_name is required',
    );
    assertError(
      await client.fail('RepositoryIndex', { repository_name: 'other' }),
      status.NOT_FOUND,
      'no repository named "other"; Skiff has one: leave repository_name empty',
    );
  });

  test('without --repository-api: PERMISSION_DENIED', async () => {
    assert.ok(locked);
    const error = await locked.client.fail('RepositoryModelUnload', { model_name: 'tiny-color' });
    assertError(
      error,
      status.PERMISSION_DENIED,
      'the repository API is disabled; start the server with --repository-api to enable it',
    );
    assert.deepEqual(error.metadata.get('skiff-error-code'), ['SKIFF_REPOSITORY_API_DISABLED']);
  });
});

test('docs/protocol.md gives each error kind the gRPC status the adapter uses', () => {
  const doc = readFileSync(path.join(repoRoot(), 'docs', 'protocol.md'), 'utf8');
  for (const [kind, row] of Object.entries(ERROR_TABLE)) {
    assert.match(doc, new RegExp(`^\\|\\s*${kind}\\s*\\|\\s*${status[row.grpc]}\\b`, 'm'), kind);
  }
});
