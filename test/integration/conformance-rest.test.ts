// REST conformance with the official clients: each request is shaped as tritonclient's http client
// (_client.py, _utils.py _get_inference_request, _infer_input.py, _requested_output.py) or KServe's
// InferenceRESTClient (inference_client.py, InferRequest.to_rest in protocol/infer_type.py) sends it, and
// each answer is read the way they read it (status only, or JSON fields, or the binary extension).
// Those clients cannot be installed here (no PyPI), so their requests are rebuilt from their sources and
// from the protocol documents (kserve docs/predict-api/v2, triton server docs/protocol/extension_*.md).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import type { RunningServer } from '../../src/server.js';
import { fixtureModel } from '../helpers/paths.js';
import { repositoryFolder } from '../helpers/repository-folder.js';
import { startTestServer } from '../helpers/test-server.js';
import { SAMPLES, decodeRaw, encodeRaw, exactJson, parseExactJson } from '../helpers/conformance-samples.js';
import type { Sample } from '../helpers/conformance-samples.js';

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Buffer;
}

async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  return {
    status: response.status,
    headers: response.headers,
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

const json = (answer: Answer): Record<string, unknown> =>
  parseExactJson(answer.bytes.toString('utf8')) as Record<string, unknown>;

interface OutputJson {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size?: number };
}

/** The binary extension's answer: the JSON header, then each binary output in order. */
function binaryOutputs(answer: Answer): Map<string, { output: OutputJson; raw: Buffer }> {
  const headerLength = Number(answer.headers.get('inference-header-content-length') ?? answer.bytes.length);
  const header = parseExactJson(answer.bytes.subarray(0, headerLength).toString('utf8')) as {
    outputs: OutputJson[];
  };
  let at = headerLength;
  const out = new Map<string, { output: OutputJson; raw: Buffer }>();
  for (const output of header.outputs) {
    const size = output.parameters?.binary_data_size ?? 0;
    out.set(output.name, { output, raw: answer.bytes.subarray(at, at + size) });
    at += size;
  }
  return out;
}

/** JSON data back to comparable values: 64-bit integers as bigint, whatever size. */
const normalise = (datatype: string, data: readonly unknown[]): unknown[] =>
  datatype.endsWith('INT64') ? data.map((v) => BigInt(v as number | bigint)) : [...data];

const post = (url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> =>
  request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('REST conformance: inference with every datatype', () => {
  let all: RunningServer;
  let linear: RunningServer;
  before(async () => {
    [all, linear] = await Promise.all([
      startTestServer({ model: fixtureModel('all-types/model.onnx') }),
      startTestServer({ model: fixtureModel('tabular-linear/model.onnx') }),
    ]);
  });
  after(async () => {
    await Promise.all([all.close(), linear.close()]);
  });

  const inputsJson = (samples: readonly (readonly [string, Sample])[]): unknown[] =>
    samples.map(([type, s]) => ({ name: `in_${type}`, shape: [2, 3], datatype: s.datatype, data: s.values }));

  test('JSON in and out (binary_data=False): every datatype, INT64/UINT64 past 2^53 exact both ways', async () => {
    const samples = Object.entries(SAMPLES);
    // tritonclient writes 64-bit values with all their digits (Python ints), as exactJson does.
    const body = exactJson({
      id: 'r1',
      inputs: inputsJson(samples),
      outputs: samples.map(([type]) => ({ name: `out_${type}`, parameters: { binary_data: false } })),
    });
    assert.match(body, /9223372036854775807/);
    const answer = await post(`${all.url}/v2/models/all-types/infer`, body);
    assert.equal(answer.status, 200, answer.bytes.toString());
    const text = answer.bytes.toString('utf8');
    // The digits themselves travel: no rounding to 9223372036854775808 or 18446744073709552000.
    assert.match(
      text,
      /\[-9223372036854775808,-9007199254740993,0,9007199254740992,9007199254740993,9223372036854775807\]/,
    );
    assert.match(text, /18446744073709551615/);
    const result = json(answer) as { id: string; model_name: string; outputs: OutputJson[] };
    assert.equal(result.id, 'r1');
    assert.equal(result.model_name, 'all-types');
    for (const [type, sample] of samples) {
      const output = result.outputs.find((o) => o.name === `out_${type}`);
      assert.ok(output, type);
      assert.deepEqual([output.datatype, output.shape], [sample.datatype, [2, 3]]);
      assert.deepEqual(normalise(sample.datatype, output.data ?? []), sample.expected, type);
    }
  });

  test('binary extension (tritonclient default): binary_data_size inputs, binary_data_output, every datatype', async () => {
    const samples = Object.entries(SAMPLES);
    const header = Buffer.from(
      JSON.stringify({
        inputs: samples.map(([type, s]) => ({
          name: `in_${type}`,
          shape: [2, 3],
          datatype: s.datatype,
          parameters: { binary_data_size: encodeRaw(s.datatype, s.values).length },
        })),
        // No outputs named: tritonclient then asks for every output in binary.
        parameters: { binary_data_output: true },
      }),
    );
    const answer = await post(
      `${all.url}/v2/models/all-types/infer`,
      Buffer.concat([header, ...samples.map(([, s]) => encodeRaw(s.datatype, s.values))]),
      {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(header.length),
      },
    );
    assert.equal(answer.status, 200, answer.bytes.toString());
    assert.equal(answer.headers.get('content-type'), 'application/octet-stream');
    const outputs = binaryOutputs(answer);
    for (const [type, sample] of samples) {
      const output = outputs.get(`out_${type}`);
      assert.ok(output, type);
      assert.deepEqual(decodeRaw(sample.datatype, output.raw), sample.expected, type);
    }
  });

  test("KServe's client: model_name and a uuid id in the body, JSON inputs, binary FP16, one output binary", async () => {
    const fp16 = encodeRaw('FP16', SAMPLES.float16.values);
    const samples = Object.entries(SAMPLES).filter(([, s]) => s.datatype !== 'FP16');
    const header = Buffer.from(
      exactJson({
        id: '2b6e2d52-3c39-4d1e-9a51-4f0c8e1f4a11',
        model_name: 'all-types',
        inputs: [
          ...inputsJson(samples),
          {
            name: 'in_float16',
            shape: [2, 3],
            datatype: 'FP16',
            parameters: { binary_data_size: fp16.length },
          },
        ],
        outputs: [{ name: 'out_float16', parameters: { binary_data: true } }, { name: 'out_uint64' }],
      }),
    );
    const answer = await post(`${all.url}/v2/models/all-types/infer`, Buffer.concat([header, fp16]), {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.length),
    });
    assert.equal(answer.status, 200, answer.bytes.toString());
    const outputs = binaryOutputs(answer);
    assert.deepEqual(
      decodeRaw('FP16', outputs.get('out_float16')?.raw ?? Buffer.alloc(0)),
      SAMPLES.float16.expected,
    );
    assert.deepEqual(
      normalise('UINT64', outputs.get('out_uint64')?.output.data ?? []),
      SAMPLES.uint64.expected,
    );
  });

  test("Triton's raw binary request: Inference-Header-Content-Length 0, the body is the one input", async () => {
    const rows = encodeRaw('FP32', [1, 1, 1, 1]);
    const answer = await post(`${linear.url}/v2/models/tabular-linear/infer`, rows, {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': '0',
    });
    assert.equal(answer.status, 200, answer.bytes.toString());
    const score = binaryOutputs(answer).get('score');
    assert.ok(score);
    assert.deepEqual(score.output.shape, [1, 1]);
    assert.deepEqual(decodeRaw('FP32', score.raw), [10.5]);
    const many = await post(`${all.url}/v2/models/all-types/infer`, rows, {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': '0',
    });
    assert.equal(many.status, 400);
    assert.match(String(json(many).error), /needs a model with one input; model "all-types" has 13/);
  });

  test('gzip and deflate request bodies (request_compression_algorithm), bounded by --max-body-bytes', async () => {
    const body = JSON.stringify({
      inputs: [{ name: 'X', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] }],
    });
    for (const [encoding, bytes] of [
      ['gzip', zlib.gzipSync(body)],
      ['deflate', zlib.deflateSync(body)],
    ] as const) {
      const answer = await post(`${linear.url}/v2/models/tabular-linear/infer`, bytes, {
        'content-encoding': encoding,
      });
      assert.equal(answer.status, 200, encoding);
      assert.deepEqual((json(answer).outputs as OutputJson[])[0]?.data, [10.5]);
    }
    // 48 KB of gzip that would inflate to 50 MB: stopped at the limit.
    const bomb = await post(
      `${linear.url}/v2/models/tabular-linear/infer`,
      zlib.gzipSync(Buffer.alloc(50_000_000)),
      {
        'content-encoding': 'gzip',
      },
    );
    assert.equal(bomb.status, 413);
    assert.match(
      String(json(bomb).error),
      /inflates to more than the limit of 20971520 bytes \(--max-body-bytes\)/,
    );
    const brotli = await post(`${linear.url}/v2/models/tabular-linear/infer`, body, {
      'content-encoding': 'br',
    });
    assert.equal(brotli.status, 415);
    const corrupt = await post(`${linear.url}/v2/models/tabular-linear/infer`, Buffer.from('not gzip'), {
      'content-encoding': 'gzip',
    });
    assert.equal(corrupt.status, 400);
  });

  test('errors: the model is looked up first; repeated outputs and out-of-range 64-bit values refused', async () => {
    for (const body of ['{"inputs": []}', '{"inputs": [{"name": "x", "datatype": "NOPE"}]}', 'not json']) {
      const answer = await post(`${linear.url}/v2/models/nope/infer`, body);
      assert.deepEqual([answer.status, json(answer)], [404, { error: 'no model named "nope"' }], body);
    }
    const input = { name: 'X', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] };
    const repeated = await post(
      `${linear.url}/v2/models/tabular-linear/infer`,
      JSON.stringify({ inputs: [input], outputs: [{ name: 'score' }, { name: 'score' }] }),
    );
    assert.deepEqual(
      [repeated.status, json(repeated)],
      [400, { error: 'output "score" is requested more than once' }],
    );
    const tooBig = await post(
      `${all.url}/v2/models/all-types/infer`,
      `{"inputs": [{"name": "in_int64", "shape": [1], "datatype": "INT64", "data": [9223372036854775808]}]}`,
    );
    assert.equal(tooBig.status, 400);
    assert.match(
      String(json(tooBig).error),
      /element 0 is 9223372036854775808, expected an integer from -9223372036854775808 to 9223372036854775807/,
    );
  });

  test('health and metadata as both clients read them', async () => {
    // Triton reads the status; KServe reads {"live": true} and {"ready": true}.
    assert.deepEqual(json(await request(`${linear.url}/v2/health/live`)), { live: true });
    assert.deepEqual(json(await request(`${linear.url}/v2/health/ready`)), { ready: true });
    for (const url of [`${linear.url}/v2`, `${linear.url}/v2/`]) {
      const metadata = json(await request(url));
      assert.equal(metadata.name, 'skiff', url);
      assert.deepEqual(metadata.extensions, [
        'binary_tensor_data',
        'classification',
        'model_configuration',
        'statistics',
      ]);
    }
    assert.deepEqual(json(await request(`${linear.url}/v2/models`)), { models: ['tabular-linear'] });
    assert.deepEqual(json(await request(`${linear.url}/v2/models/tabular-linear/ready`)), {
      name: 'tabular-linear',
      ready: true,
    });
  });
});

function makeRepository(): string {
  const repository = repositoryFolder('skiff-conformance-rest-');
  repository.fixture('tabular-linear/model.onnx', 'linear', '1', 'model.onnx');
  repository.json(
    { batching: { maxBatchSize: 8, maxQueueDelayMs: 1.5, queueTimeoutMs: 100 } },
    'linear',
    'model.json',
  );
  repository.fixture('tiny-color-nhwc-uint8/model.onnx', 'color', 'model.onnx');
  repository.fixture('tiny-color-nhwc-uint8/labels.txt', 'color', 'labels.txt');
  repository.fixture('all-types/model.onnx', 'types', 'model.onnx');
  repository.fixture('broken/model.onnx', 'broken', 'model.onnx');
  return repository.root;
}

describe('REST conformance: readiness, repository, configuration, statistics, classification, V1', () => {
  let strict: RunningServer;
  let lenient: RunningServer;
  before(async () => {
    const root = makeRepository();
    [strict, lenient] = await Promise.all([
      startTestServer({ model: 'unused', modelRepository: root, repositoryApi: true, workers: 2 }),
      startTestServer({ model: 'unused', modelRepository: root, strictReadiness: false }),
    ]);
  });
  after(async () => {
    await Promise.all([strict.close(), lenient.close()]);
  });

  test('a failed model: the server is not ready unless --no-strict-readiness; its V1 status is 503', async () => {
    const notReady = await request(`${strict.url}/v2/health/ready`);
    assert.equal(notReady.status, 400);
    assert.equal(json(notReady).ready, false);
    assert.match(String(json(notReady).error), /^model "broken" failed to load/);
    assert.deepEqual(json(await request(`${lenient.url}/v2/health/ready`)), { ready: true });
    // KServe's client reads a V1 503 as ready: false.
    const v1 = await request(`${strict.url}/v1/models/broken`);
    assert.equal(v1.status, 503);
    assert.deepEqual([json(v1).name, json(v1).ready], ['broken', false]);
    assert.deepEqual(json(await request(`${strict.url}/v1/models/linear`)), { name: 'linear', ready: true });
  });

  test('repository: index (empty body, {"ready": true}), load and unload as tritonclient and KServe send them', async () => {
    const index = async (body?: string): Promise<string[]> => {
      const answer = await request(`${strict.url}/v2/repository/index`, {
        method: 'POST',
        ...(body === undefined ? {} : { body }),
      });
      assert.equal(answer.status, 200);
      return (json(answer) as unknown as { name: string; state: string }[]).map(
        (m) => `${m.name}:${m.state}`,
      );
    };
    assert.deepEqual(await index(), ['broken:UNAVAILABLE', 'color:READY', 'linear:READY', 'types:READY']);
    assert.deepEqual(await index(''), await index());
    assert.deepEqual(await index('{"ready": true}'), ['color:READY', 'linear:READY', 'types:READY']);

    const unload = await post(
      `${strict.url}/v2/repository/models/color/unload`,
      '{"parameters": {"unload_dependents": false}}',
    );
    assert.deepEqual([unload.status, json(unload)], [200, { name: 'color', unload: true }]);
    const gone = await request(`${strict.url}/v2/models/color/ready`);
    assert.deepEqual([gone.status, json(gone).ready], [400, false]);
    // tritonclient's load_model(config=..., files=...): refused, as gRPC refuses it.
    const override = await post(
      `${strict.url}/v2/repository/models/color/load`,
      JSON.stringify({ parameters: { config: '{"max_batch_size": 2}', 'file:1/model.onnx': 'b25ueA==' } }),
    );
    assert.equal(override.status, 501);
    assert.match(
      String(json(override).error),
      /a load with "config", "file:1\/model.onnx" \(a config or file override\) is not supported/,
    );
    const load = await post(`${strict.url}/v2/repository/models/color/load`, '{}');
    assert.deepEqual([load.status, json(load)], [200, { name: 'color', load: true }]);
    assert.equal((await request(`${strict.url}/v2/models/color/ready`)).status, 200);
  });

  test('model configuration: what Skiff applies (batching, instances, layout), in model_config.proto JSON', async () => {
    const linearConfig = json(await request(`${strict.url}/v2/models/linear/config`));
    assert.deepEqual(linearConfig, {
      name: 'linear',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      version_policy: { latest: { num_versions: 1 } },
      max_batch_size: 8,
      input: [{ name: 'X', data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: [4] }],
      output: [{ name: 'score', data_type: 'TYPE_FP32', dims: [1] }],
      instance_group: [{ name: 'linear_0', kind: 'KIND_CPU', count: 2 }],
      dynamic_batching: {
        preferred_batch_size: [],
        max_queue_delay_microseconds: 1500,
        default_queue_policy: {
          timeout_action: 'REJECT',
          default_timeout_microseconds: 100_000,
          allow_timeout_override: false,
          max_queue_size: 64,
        },
      },
    });
    const color = json(await request(`${strict.url}/v2/models/color/versions/1/config`));
    assert.equal(color.max_batch_size, 0);
    assert.equal(color.dynamic_batching, undefined);
    assert.equal((color.input as { format: string }[])[0]?.format, 'FORMAT_NHWC');
    const types = json(await request(`${strict.url}/v2/models/types/config`));
    assert.deepEqual(
      (types.input as { data_type: string }[]).map((i) => i.data_type),
      [
        'TYPE_BOOL',
        'TYPE_UINT8',
        'TYPE_UINT16',
        'TYPE_UINT32',
        'TYPE_UINT64',
        'TYPE_INT8',
        'TYPE_INT16',
        'TYPE_INT32',
        'TYPE_INT64',
        'TYPE_FP16',
        'TYPE_FP32',
        'TYPE_FP64',
        'TYPE_STRING',
      ],
    );
    assert.equal((await request(`${strict.url}/v2/models/nope/config`)).status, 404);
    assert.equal((await request(`${strict.url}/v2/models/broken/config`)).status, 503);
  });

  test('statistics: GET v2/models[/m[/versions/v]]/stats in the shape tritonclient returns', async () => {
    const rows = (n: number): string =>
      JSON.stringify({
        inputs: [{ name: 'X', shape: [n, 4], datatype: 'FP32', data: new Array<number>(n * 4).fill(1) }],
      });
    for (const n of [1, 3, 3])
      assert.equal((await post(`${lenient.url}/v2/models/linear/infer`, rows(n))).status, 200);
    const answer = json(await request(`${lenient.url}/v2/models/linear/versions/1/stats`)) as {
      model_stats: Record<string, unknown>[];
    };
    const [stats] = answer.model_stats;
    assert.ok(stats);
    assert.deepEqual(Object.keys(stats), [
      'name',
      'version',
      'last_inference',
      'inference_count',
      'execution_count',
      'inference_stats',
      'response_stats',
      'batch_stats',
      'memory_usage',
    ]);
    assert.deepEqual(
      [stats.name, stats.version, stats.inference_count, stats.execution_count],
      ['linear', '1', 7, 3],
    );
    const inference = stats.inference_stats as Record<string, { count: number; ns: number }>;
    assert.deepEqual(Object.keys(inference), [
      'success',
      'fail',
      'queue',
      'compute_input',
      'compute_infer',
      'compute_output',
      'cache_hit',
      'cache_miss',
    ]);
    const { success, compute_infer: computeInfer } = inference;
    assert.ok(success && computeInfer);
    assert.equal(success.count, 3);
    assert.ok(success.ns >= computeInfer.ns && computeInfer.ns > 0, 'success covers queue and compute');
    assert.deepEqual(
      (stats.batch_stats as { batch_size: number; compute_infer: { count: number } }[]).map((b) => [
        b.batch_size,
        b.compute_infer.count,
      ]),
      [
        [1, 1],
        [3, 2],
      ],
    );
    const everyModel = json(await request(`${lenient.url}/v2/models/stats`)) as {
      model_stats: { name: string }[];
    };
    assert.deepEqual(everyModel.model_stats.map((m) => m.name).sort(), [
      'broken',
      'color',
      'linear',
      'types',
    ]);
    assert.equal((await request(`${lenient.url}/v2/models/nope/stats`)).status, 404);
    assert.equal((await request(`${lenient.url}/v2/models/linear/versions/7/stats`)).status, 404);
  });

  test('classification: the index is the output tensor index, background class included (Triton)', async () => {
    // tiny-color-nhwc-uint8: output 0 is a background class; labels.txt names it, then red, green, blue, grey.
    const metadata = json(await request(`${strict.url}/v2/models/color`)) as {
      inputs: { name: string; shape: number[] }[];
      outputs: { name: string }[];
    };
    const input = metadata.inputs[0];
    const output = metadata.outputs[0]?.name ?? '';
    assert.ok(input);
    const shape = input.shape.map((d) => (d < 0 ? 1 : d));
    // A red image, NHWC.
    const pixels = Buffer.alloc(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < pixels.length; i += 3) pixels[i] = 230;
    const body = (parameters: object): string =>
      JSON.stringify({
        inputs: [{ name: input.name, shape, datatype: 'UINT8', data: [...pixels] }],
        outputs: [{ name: output, parameters }],
      });
    const raw = json(await post(`${strict.url}/v2/models/color/infer`, body({ binary_data: false }))) as {
      outputs: OutputJson[];
    };
    const scores = (raw.outputs[0]?.data ?? []) as number[];
    const best = scores.indexOf(Math.max(...scores));
    assert.equal(best, 1, 'red is element 1 of the output (element 0 is background)');
    const classified = json(
      await post(`${strict.url}/v2/models/color/infer`, body({ classification: 2, binary_data: false })),
    ) as { outputs: OutputJson[] };
    const [top, second] = (classified.outputs[0]?.data ?? []) as string[];
    assert.deepEqual(classified.outputs[0]?.shape, [1, 2]);
    assert.equal(top, `${scores[1]}:1:red`);
    assert.match(second ?? '', /^[-\d.e]+:[2-4]:(green|blue|grey)$/);
  });

  test('KServe V1: instances as objects keyed by input name, every datatype but FP16 bits, 64-bit exact', async () => {
    const samples = Object.entries(SAMPLES);
    const instance = (row: number): Record<string, unknown> =>
      Object.fromEntries(samples.map(([type, s]) => [`in_${type}`, s.values.slice(row * 3, row * 3 + 3)]));
    const answer = await post(
      `${strict.url}/v1/models/types:predict`,
      exactJson({ instances: [instance(0), instance(1)] }),
    );
    assert.equal(answer.status, 200, answer.bytes.toString());
    const predictions = (json(answer) as { predictions: Record<string, unknown[]>[] }).predictions;
    assert.equal(predictions.length, 2);
    for (const [type, sample] of samples) {
      const got = predictions.flatMap((p) => p[`out_${type}`] ?? []);
      assert.deepEqual(normalise(sample.datatype, got), sample.expected, type);
    }
  });
});
