// Open Inference Protocol v2 over REST, checked against the spec: every endpoint, every datatype, flat and
// nested data, the binary tensor and classification extensions, and the error cases with exact statuses.
// KServe V1, Seldon v1 and the seed's JSON /predict are checked to give the same numbers as OIP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import type { RunningServer } from '../../src/server.js';
import { IMAGENET_LABELS, defaultModel, fixtureModel, testImage } from '../helpers/paths.js';
import { postImage, startTestServer } from '../helpers/test-server.js';

interface OutputJson {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size?: number };
}
interface InferJson {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: OutputJson[];
}

/** A sample [2,3] value list per datatype, chosen to hit each type's edges. */
const SAMPLES: Record<string, { datatype: string; data: unknown[] }> = {
  bool: { datatype: 'BOOL', data: [true, false, true, false, false, true] },
  uint8: { datatype: 'UINT8', data: [0, 1, 2, 127, 128, 255] },
  uint16: { datatype: 'UINT16', data: [0, 1, 65535, 300, 4, 5] },
  uint32: { datatype: 'UINT32', data: [0, 1, 4294967295, 7, 8, 9] },
  uint64: { datatype: 'UINT64', data: [0, 1, 2 ** 53 - 1, 3, 4, 5] },
  int8: { datatype: 'INT8', data: [-128, -1, 0, 1, 126, 127] },
  int16: { datatype: 'INT16', data: [-32768, -1, 0, 1, 2, 32767] },
  int32: { datatype: 'INT32', data: [-2147483648, -1, 0, 1, 2, 2147483647] },
  int64: { datatype: 'INT64', data: [-(2 ** 53) + 1, -1, 0, 1, 2, 2 ** 53 - 1] },
  float16: { datatype: 'FP16', data: [0, 1, -2, 0.5, 65504, -0.25] },
  float32: { datatype: 'FP32', data: [0, 1.5, -2.25, 3.0e38, -1e-3, 7] },
  float64: { datatype: 'FP64', data: [0, Math.PI, -Math.E, 1e300, -1e-300, 42] },
  string: { datatype: 'BYTES', data: ['', 'a', 'héllo', 'x y', '🙂', 'last'] },
};

const allInputs = (nested: boolean): unknown[] =>
  Object.entries(SAMPLES).map(([type, { datatype, data }]) => ({
    name: `in_${type}`,
    datatype,
    shape: [2, 3],
    data: nested ? [data.slice(0, 3), data.slice(3)] : data,
  }));

async function infer(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Builds a binary-extension body: JSON header, then each buffer in order. */
function binaryBody(
  header: unknown,
  buffers: Uint8Array[],
): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([json, ...buffers]),
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(json.length),
    },
  };
}

function splitBinaryResponse(bytes: Buffer, headerLength: number): { header: InferJson; rest: Buffer } {
  return {
    header: JSON.parse(bytes.subarray(0, headerLength).toString('utf8')) as InferJson,
    rest: bytes.subarray(headerLength),
  };
}

describe('Open Inference Protocol v2 REST', () => {
  let types: RunningServer;
  let linear: RunningServer;
  let color: RunningServer;

  before(async () => {
    [types, linear, color] = await Promise.all([
      startTestServer({ model: fixtureModel('all-types/model.onnx') }),
      startTestServer({ model: fixtureModel('tabular-linear/model.onnx') }),
      startTestServer({
        model: fixtureModel('tiny-color/model.onnx'),
        labels: fixtureModel('tiny-color/labels.txt'),
      }),
    ]);
  });
  after(async () => {
    await Promise.all([types.close(), linear.close(), color.close()]);
  });

  test('GET /v2: server metadata with the extensions', async () => {
    const response = await fetch(`${types.url}/v2`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { name: string; version: string; extensions: string[] };
    assert.equal(body.name, 'skiff');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(body.extensions, [
      'binary_tensor_data',
      'classification',
      'model_configuration',
      'statistics',
    ]);
  });

  // Was an empty body; KServe's client reads {"live": true} / {"ready": true}, Triton's only the status.
  test('health: live and ready are 200 with {"live": true} and {"ready": true}', async () => {
    for (const [path, body] of [
      ['/v2/health/live', { live: true }],
      ['/v2/health/ready', { ready: true }],
    ] as const) {
      const response = await fetch(`${linear.url}${path}`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), body);
    }
  });

  test('model metadata, with and without the version', async () => {
    const expected = {
      name: 'tabular-linear',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'X', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'score', datatype: 'FP32', shape: [-1, 1] }],
    };
    for (const path of ['/v2/models/tabular-linear', '/v2/models/tabular-linear/versions/1']) {
      const response = await fetch(`${linear.url}${path}`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), expected);
    }
  });

  test('model ready, with and without the version; unknown model or version is 404', async () => {
    assert.equal((await fetch(`${linear.url}/v2/models/tabular-linear/ready`)).status, 200);
    assert.equal((await fetch(`${linear.url}/v2/models/tabular-linear/versions/1/ready`)).status, 200);
    const unknown = await fetch(`${linear.url}/v2/models/nope/ready`);
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: string }).error, /no model named "nope"/);
    const version = await fetch(`${linear.url}/v2/models/tabular-linear/versions/7`);
    assert.equal(version.status, 404);
    assert.match(((await version.json()) as { error: string }).error, /has no version "7"/);
  });

  test('every datatype round-trips through JSON, flat and nested, with id echoed', async () => {
    for (const nested of [false, true]) {
      const { status, json } = await infer(`${types.url}/v2/models/all-types/infer`, {
        id: `req-${nested}`,
        inputs: allInputs(nested),
      });
      assert.equal(status, 200, JSON.stringify(json));
      const body = json as unknown as InferJson;
      assert.equal(body.model_name, 'all-types');
      assert.equal(body.model_version, '1');
      assert.equal(body.id, `req-${nested}`);
      assert.equal(body.outputs.length, Object.keys(SAMPLES).length);
      for (const [type, { datatype, data }] of Object.entries(SAMPLES)) {
        const output = body.outputs.find((o) => o.name === `out_${type}`);
        assert.ok(output, type);
        assert.equal(output.datatype, datatype);
        assert.deepEqual(output.shape, [2, 3]);
        const expected = datatype === 'FP32' ? data.map((v) => Math.fround(v as number)) : data;
        assert.deepEqual(output.data, expected, type);
      }
    }
  });

  test('outputs selection returns only the outputs asked for, in the order asked', async () => {
    const { status, json } = await infer(`${types.url}/v2/models/all-types/infer`, {
      inputs: allInputs(false),
      outputs: [{ name: 'out_int32' }, { name: 'out_bool' }],
    });
    assert.equal(status, 200);
    assert.deepEqual(
      (json as unknown as InferJson).outputs.map((o) => o.name),
      ['out_int32', 'out_bool'],
    );
  });

  test('binary tensor data, both directions, for every datatype (including 64-bit values JSON cannot carry)', async () => {
    const big = new BigInt64Array([-(2n ** 63n), -1n, 0n, 1n, 2n ** 62n + 1n, 2n ** 63n - 1n]);
    const buffers: Uint8Array[] = [];
    const inputs = Object.entries(SAMPLES).map(([type, { datatype, data }]) => {
      const raw = encodeRaw(type, data, type === 'int64' ? big : undefined);
      buffers.push(raw);
      return {
        name: `in_${type}`,
        datatype,
        shape: [2, 3],
        parameters: { binary_data_size: raw.byteLength },
      };
    });
    const { body, headers } = binaryBody({ inputs, parameters: { binary_data_output: true } }, buffers);
    const response = await fetch(`${types.url}/v2/models/all-types/infer`, { method: 'POST', headers, body });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    const headerLength = Number(response.headers.get('inference-header-content-length'));
    const { header, rest } = splitBinaryResponse(Buffer.from(await response.arrayBuffer()), headerLength);
    let at = 0;
    for (const [index, output] of header.outputs.entries()) {
      const size = output.parameters?.binary_data_size ?? -1;
      assert.equal(output.data, undefined);
      assert.deepEqual(
        Buffer.from(rest.subarray(at, at + size)),
        Buffer.from(buffers[index] ?? []),
        output.name,
      );
      at += size;
    }
    assert.equal(at, rest.length);
  });

  test('a large binary tensor comes back intact through an Identity, request after request (the worker frees each input after its run)', async () => {
    const rows = 20_000;
    for (let round = 0; round < 3; round++) {
      const values = Float32Array.from({ length: rows * 3 }, (_, i) => i * 0.5 + round);
      const raw = new Uint8Array(values.buffer);
      const inputs = allInputs(false).map((input) =>
        (input as { name: string }).name === 'in_float32'
          ? {
              name: 'in_float32',
              datatype: 'FP32',
              shape: [rows, 3],
              parameters: { binary_data_size: raw.byteLength },
            }
          : input,
      );
      const { body, headers } = binaryBody(
        { inputs, outputs: [{ name: 'out_float32', parameters: { binary_data: true } }] },
        [raw],
      );
      const response = await fetch(`${types.url}/v2/models/all-types/infer`, {
        method: 'POST',
        headers,
        body,
      });
      assert.equal(response.status, 200, await response.clone().text());
      const headerLength = Number(response.headers.get('inference-header-content-length'));
      const { header, rest } = splitBinaryResponse(Buffer.from(await response.arrayBuffer()), headerLength);
      assert.deepEqual(header.outputs[0]?.shape, [rows, 3]);
      assert.ok(
        Buffer.from(rest).equals(Buffer.from(raw)),
        `round ${round}: the output differs from the input`,
      );
    }
  });

  test('mixed JSON and binary inputs, and binary for one output only', async () => {
    const raw = new Float32Array([1, 2, 3, 4]);
    const { body, headers } = binaryBody(
      {
        inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }],
        outputs: [{ name: 'score', parameters: { binary_data: true } }],
      },
      [new Uint8Array(raw.buffer)],
    );
    const response = await fetch(`${linear.url}/v2/models/tabular-linear/infer`, {
      method: 'POST',
      headers,
      body,
    });
    assert.equal(response.status, 200);
    const { header, rest } = splitBinaryResponse(
      Buffer.from(await response.arrayBuffer()),
      Number(response.headers.get('inference-header-content-length')),
    );
    assert.deepEqual(header.outputs[0]?.parameters, { binary_data_size: 4 });
    assert.equal(rest.readFloatLE(0), 1 * 1 + 2 * 2 + 3 * 3 + 4 * 4 + 0.5);
  });

  test('classification: top-N "value:index:label" with the model labels', async () => {
    const input = { name: 'input', datatype: 'FP32', shape: [2, 3, 8, 8], data: redThenBlue() };
    const raw = await infer(`${color.url}/v2/models/tiny-color/infer`, { inputs: [input] });
    const logits = (raw.json as unknown as InferJson).outputs[0]?.data as number[];
    const { status, json } = await infer(`${color.url}/v2/models/tiny-color/infer`, {
      inputs: [input],
      outputs: [{ name: 'logits', parameters: { classification: 2 } }],
    });
    assert.equal(status, 200);
    const output = (json as unknown as InferJson).outputs[0];
    assert.equal(output?.datatype, 'BYTES');
    assert.deepEqual(output.shape, [2, 2]);
    const expected = [0, 1].flatMap((row) => {
      const values = logits.slice(row * 4, row * 4 + 4);
      const order = [0, 1, 2, 3].sort((a, b) => (values[b] ?? 0) - (values[a] ?? 0)).slice(0, 2);
      return order.map((i) => `${Math.fround(values[i] ?? 0)}:${i}:${['red', 'green', 'blue', 'grey'][i]}`);
    });
    assert.deepEqual(output.data, expected);
    assert.match(String(output.data[0]), /:0:red$/);
    assert.match(String(output.data[2]), /:2:blue$/);
  });

  describe('errors, with exact statuses', () => {
    const url = (): string => `${linear.url}/v2/models/tabular-linear/infer`;
    const x = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
      name: 'X',
      datatype: 'FP32',
      shape: [1, 4],
      data: [1, 2, 3, 4],
      ...over,
    });
    const cases: [
      string,
      () => Promise<{ status: number; json: Record<string, unknown> }>,
      number,
      RegExp,
    ][] = [
      [
        'unknown model',
        () => infer(`${linear.url}/v2/models/nope/infer`, { inputs: [x()] }),
        404,
        /no model named "nope"/,
      ],
      [
        'unknown version',
        () => infer(`${linear.url}/v2/models/tabular-linear/versions/3/infer`, { inputs: [x()] }),
        404,
        /no version "3"/,
      ],
      [
        'wrong shape',
        () => infer(url(), { inputs: [x({ shape: [1, 3], data: [1, 2, 3] })] }),
        400,
        /shape \[1,3\] but the model takes \[-1,4\]/,
      ],
      [
        'wrong datatype',
        () => infer(url(), { inputs: [x({ datatype: 'INT32' })] }),
        400,
        /must be FP32, got INT32/,
      ],
      [
        'unknown datatype',
        () => infer(url(), { inputs: [x({ datatype: 'FLOAT' })] }),
        400,
        /datatype "FLOAT" is not one of/,
      ],
      [
        'missing input',
        () => infer(`${types.url}/v2/models/all-types/infer`, { inputs: allInputs(false).slice(1) }),
        400,
        /input "in_bool" is missing/,
      ],
      ['unknown input', () => infer(url(), { inputs: [x(), x({ name: 'Y' })] }), 400, /has no input "Y"/],
      ['input given twice', () => infer(url(), { inputs: [x(), x()] }), 400, /given twice/],
      [
        'data does not fit the shape',
        () => infer(url(), { inputs: [x({ data: [1, 2, 3] })] }),
        400,
        /3 values do not fit shape \[1,4\]/,
      ],
      [
        'a string where a number belongs',
        () => infer(url(), { inputs: [x({ data: [1, 'a', 3, 4] })] }),
        400,
        /element 1 is "a", expected a number/,
      ],
      ['no inputs', () => infer(url(), { inputs: [] }), 400, /"inputs" must be a non-empty array/],
      [
        'unknown output',
        () => infer(url(), { inputs: [x()], outputs: [{ name: 'nope' }] }),
        400,
        /has no output "nope"/,
      ],
      [
        'negative shape',
        () => infer(url(), { inputs: [x({ shape: [-1, 4] })] }),
        400,
        /non-negative integers/,
      ],
      [
        'out-of-range integer',
        () =>
          infer(`${types.url}/v2/models/all-types/infer`, {
            inputs: allInputs(false).map((i) =>
              (i as { name: string }).name === 'in_uint8'
                ? { ...(i as object), data: [0, 1, 2, 3, 4, 256] }
                : i,
            ),
          }),
        400,
        /element 5 is 256, expected an integer from 0 to 255/,
      ],
    ];
    for (const [title, run, status, message] of cases) {
      test(title, async () => {
        const { status: got, json } = await run();
        assert.equal(got, status, JSON.stringify(json));
        assert.match(String(json.error), message);
      });
    }

    test('bad JSON, an empty body, and bad binary framing', async () => {
      const post = async (
        body: Buffer | string,
        headers: Record<string, string>,
      ): Promise<[number, string]> => {
        const response = await fetch(url(), { method: 'POST', headers, body });
        return [response.status, ((await response.json()) as { error: string }).error];
      };
      assert.deepEqual(await post('{"inputs": [', { 'content-type': 'application/json' }), [
        400,
        'the request body is not valid JSON',
      ]);
      const [emptyStatus, emptyError] = await post('', { 'content-type': 'application/json' });
      assert.equal(emptyStatus, 400);
      assert.match(emptyError, /no body/);
      const header = Buffer.from(
        JSON.stringify({ inputs: [x({ data: undefined, parameters: { binary_data_size: 16 } })] }),
      );
      const data = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
      const [longStatus, longError] = await post(Buffer.concat([header, data]), {
        'inference-header-content-length': String(header.length + 100),
      });
      assert.equal(longStatus, 400);
      assert.match(longError, /Inference-Header-Content-Length is \d+ but the body has \d+ bytes/);
      const [shortStatus, shortError] = await post(Buffer.concat([header, data.subarray(0, 8)]), {
        'inference-header-content-length': String(header.length),
      });
      assert.equal(shortStatus, 400);
      assert.match(shortError, /binary_data_size 16 runs past the end of the body/);
      const [extraStatus, extraError] = await post(Buffer.concat([header, data, Buffer.from([1, 2])]), {
        'inference-header-content-length': String(header.length),
      });
      assert.equal(extraStatus, 400);
      assert.match(extraError, /2 bytes of binary data are not claimed/);
      const [badHeaderStatus, badHeaderError] = await post(Buffer.concat([header, data]), {
        'inference-header-content-length': 'abc',
      });
      assert.equal(badHeaderStatus, 400);
      assert.match(badHeaderError, /whole number of bytes/);
      const [noHeaderStatus, noHeaderError] = await post(header, { 'content-type': 'application/json' });
      assert.equal(noHeaderStatus, 400);
      assert.match(noHeaderError, /binary_data_size but the request has no Inference-Header-Content-Length/);
    });

    test('a non-JSON infer request on GET is 405', async () => {
      const response = await fetch(url());
      assert.equal(response.status, 405);
      assert.equal(response.headers.get('allow'), 'POST');
    });
  });

  describe('KServe V1, Seldon v1 and the seed JSON route give the same numbers as OIP', () => {
    const rows = [
      [1, 2, 3, 4],
      [0.5, -1, 2, 0],
    ];
    let oip: number[];
    before(async () => {
      const { json } = await infer(`${linear.url}/v2/models/tabular-linear/infer`, {
        inputs: [{ name: 'X', datatype: 'FP32', shape: [2, 4], data: rows }],
      });
      oip = (json as unknown as InferJson).outputs[0]?.data as number[];
      assert.equal(oip.length, 2);
    });

    test('V1: GET /v1/models/{m} and :predict with instances and with inputs', async () => {
      assert.deepEqual(await (await fetch(`${linear.url}/v1/models`)).json(), { models: ['tabular-linear'] });
      assert.deepEqual(await (await fetch(`${linear.url}/v1/models/tabular-linear`)).json(), {
        name: 'tabular-linear',
        ready: true,
      });
      const instances = await infer(`${linear.url}/v1/models/tabular-linear:predict`, { instances: rows });
      assert.equal(instances.status, 200);
      assert.deepEqual(instances.json, { predictions: oip.map((v) => [v]) });
      const columnar = await infer(`${linear.url}/v1/models/tabular-linear:predict`, { inputs: rows });
      assert.deepEqual(columnar.json, { predictions: oip.map((v) => [v]) });
      const bad = await infer(`${linear.url}/v1/models/tabular-linear:predict`, { rows });
      assert.equal(bad.status, 400);
      assert.match(String(bad.json.error), /needs "instances" or "inputs"/);
    });

    test('Seldon: ndarray and tensor forms, and metadata', async () => {
      const ndarray = await infer(`${linear.url}/api/v1.0/predictions`, {
        data: { names: ['a', 'b', 'c', 'd'], ndarray: rows },
      });
      assert.deepEqual(ndarray.json, { data: { names: ['t:0'], ndarray: oip.map((v) => [v]) }, meta: {} });
      const tensor = await infer(`${linear.url}/api/v1.0/predictions`, {
        data: { tensor: { shape: [2, 4], values: rows.flat() } },
      });
      assert.deepEqual(tensor.json, {
        data: { names: ['t:0'], tensor: { shape: [2, 1], values: oip } },
        meta: {},
      });
      const metadata = (await (await fetch(`${linear.url}/api/v1.0/metadata`)).json()) as {
        name: string;
        inputs: unknown[];
      };
      assert.equal(metadata.name, 'tabular-linear');
      assert.deepEqual(metadata.inputs, [
        { messagetype: 'tensor', schema: { names: ['X'], datatype: 'FP32', shape: [-1, 4] } },
      ]);
    });

    test('the seed JSON route: {"X": row} and {"X": rows}', async () => {
      const one = await infer(`${linear.url}/predict`, { X: rows[0] });
      assert.deepEqual(one.json, { score: oip[0] });
      const many = await infer(`${linear.url}/predict`, { X: rows });
      assert.deepEqual(many.json, { score: oip });
      const missing = await infer(`${linear.url}/predict`, { Y: rows });
      assert.equal(missing.status, 400);
      assert.match(String(missing.json.error), /"X" cannot be found/);
    });

    test('images: V1 b64 instances and Seldon binData classify like /predict', async () => {
      const red = await sharp({ create: { width: 20, height: 16, channels: 3, background: '#e01010' } })
        .png()
        .toBuffer();
      const viaPredict = (await (
        await postImage(`${color.url}/predict`, red, 'red.png', 'image/png')
      ).json()) as { predictions: unknown[] };
      const v1 = await infer(`${color.url}/v1/models/tiny-color:predict`, {
        instances: [{ b64: red.toString('base64') }, { image_bytes: { b64: red.toString('base64') } }],
      });
      assert.deepEqual(v1.json, { predictions: [viaPredict.predictions, viaPredict.predictions] });
      const seldon = await infer(`${color.url}/api/v1.0/predictions`, { binData: red.toString('base64') });
      assert.deepEqual(seldon.json, { jsonData: { predictions: viaPredict.predictions }, meta: {} });
      assert.equal((viaPredict.predictions[0] as { label: string }).label, 'red');
    });
  });
});

test('a real photo through OIP classification agrees with /predict on MobileNet V2', async () => {
  // Served under the name its model.json gives: mobilenetv2-int8.
  const server = await startTestServer({ model: defaultModel(), labels: IMAGENET_LABELS() });
  try {
    const photo = readFileSync(testImage('hotdog.jpg'));
    const { data } = await sharp(photo)
      .resize(256, 256, { fit: 'fill' })
      .extract({ left: 16, top: 16, width: 224, height: 224 })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const values = new Array<number>(3 * 224 * 224);
    for (let p = 0; p < 224 * 224; p++)
      for (let c = 0; c < 3; c++)
        values[c * 224 * 224 + p] = ((data[p * 3 + c] ?? 0) / 255 - (mean[c] ?? 0)) / (std[c] ?? 1);
    const { status, json } = await infer(`${server.url}/v2/models/mobilenetv2-int8/infer`, {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 224, 224], data: values }],
      outputs: [{ name: 'logits', parameters: { classification: 3 } }],
    });
    assert.equal(status, 200);
    const top = (json as unknown as InferJson).outputs[0]?.data as string[];
    assert.equal(top.length, 3);
    assert.match(top[0] ?? '', /^[\d.]+:934:hotdog$/);
  } finally {
    await server.close();
  }
});

function redThenBlue(): number[] {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const pixel = (rgb: number[]): number[] => rgb.map((v, c) => (v / 255 - (mean[c] ?? 0)) / (std[c] ?? 1));
  const image = (rgb: number[]): number[] => pixel(rgb).flatMap((v) => new Array<number>(64).fill(v));
  return [...image([255, 0, 0]), ...image([0, 0, 255])];
}

function encodeRaw(type: string, data: unknown[], bigOverride?: BigInt64Array): Uint8Array {
  const bytes = (array: ArrayBufferView): Uint8Array =>
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  switch (type) {
    case 'bool':
      return Uint8Array.from(data as boolean[], (v) => (v ? 1 : 0));
    case 'uint8':
      return Uint8Array.from(data as number[]);
    case 'uint16':
      return bytes(Uint16Array.from(data as number[]));
    case 'uint32':
      return bytes(Uint32Array.from(data as number[]));
    case 'uint64':
      return bytes(BigUint64Array.from(data as number[], (v) => BigInt(v)));
    case 'int8':
      return bytes(Int8Array.from(data as number[]));
    case 'int16':
      return bytes(Int16Array.from(data as number[]));
    case 'int32':
      return bytes(Int32Array.from(data as number[]));
    case 'int64':
      return bytes(bigOverride ?? BigInt64Array.from(data as number[], (v) => BigInt(v)));
    case 'float16':
      return bytes(Uint16Array.from([0x0000, 0x3c00, 0xc000, 0x3800, 0x7bff, 0xb400]));
    case 'float32':
      return bytes(Float32Array.from(data as number[]));
    case 'float64':
      return bytes(Float64Array.from(data as number[]));
    default: {
      const parts = (data as string[]).map((s) => Buffer.from(s, 'utf8'));
      return Buffer.concat(parts.flatMap((p) => [Buffer.from(new Uint32Array([p.length]).buffer), p]));
    }
  }
}
