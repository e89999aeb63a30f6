// Bad input on every protocol: each kind gets its documented status and a clear message, and after each one
// the server is still live and still answers a good inference. Together with predict-bad-input.test.ts
// (image uploads on /predict), oip-rest.test.ts ("errors, with exact statuses") and hardening.test.ts (slow
// headers, auth, fuzzing) this is the bad-input suite of issue 5. The kinds covered here, by group:
//
//  #  | kind                                                          | answer
// ----|---------------------------------------------------------------|-----------------------------------------
//     | multipart and content types                                   |
//   1 | multipart part with a malformed header (the part is skipped)  | 400 SKIFF_MISSING_IMAGE
//   2 | multipart cut off before its closing boundary                 | 400 SKIFF_BAD_REQUEST malformed multipart
//   3 | multipart with two image files                                | 400 SKIFF_BAD_REQUEST malformed multipart
//   4 | multipart content type without a boundary                     | 400 SKIFF_BAD_REQUEST malformed multipart
//   5 | text/plain to KServe V1 (read as text, not as JSON)           | 400 SKIFF_BAD_REQUEST
//   6 | application/xml to Seldon                                     | 415 SKIFF_UNSUPPORTED_MEDIA_TYPE
//     | images (raw body on /predict, base64 in V1 and Seldon)        |
//   7 | truncated WebP                                                | 400 SKIFF_UNDECODABLE_IMAGE
//   8 | corrupt WebP (VP8 data garbled)                               | 400 SKIFF_UNDECODABLE_IMAGE
//   9 | truncated GIF                                                 | 400 SKIFF_UNDECODABLE_IMAGE
//  10 | corrupt GIF                                                   | 400 SKIFF_UNDECODABLE_IMAGE
//  11 | truncated TIFF                                                | 400 SKIFF_UNDECODABLE_IMAGE
//  12 | corrupt TIFF                                                  | 400 SKIFF_UNDECODABLE_IMAGE
//  13 | truncated AVIF                                                | 400 SKIFF_UNDECODABLE_IMAGE
//  14 | corrupt AVIF                                                  | 400 SKIFF_UNDECODABLE_IMAGE
//  15 | corrupt JPEG (scan data garbled, header intact)               | 400 SKIFF_UNDECODABLE_IMAGE
//  16 | JPEG bomb: a few hundred bytes claiming 60000 x 60000         | 413 SKIFF_IMAGE_TOO_LARGE
//  17 | truncated image as a KServe V1 b64 instance                   | 400 SKIFF_UNDECODABLE_IMAGE
//  18 | Seldon binData that is not an image                           | 400 SKIFF_UNDECODABLE_IMAGE
//     | huge and deep JSON, element-count limit                       |
//  19 | JSON body over --max-body-bytes                               | 413 SKIFF_BODY_TOO_LARGE
//  20 | OIP JSON tensor over --max-tensor-elements                    | 413 SKIFF_TENSOR_TOO_LARGE
//  21 | OIP binary tensor over --max-tensor-elements                  | 413 SKIFF_TENSOR_TOO_LARGE
//  22 | KServe V1 instances over --max-tensor-elements                | 413 SKIFF_TENSOR_TOO_LARGE
// 22a | KServe V1 with more instances than --max-instances            | 413 SKIFF_TOO_MANY_INSTANCES
//  23 | Seldon data.tensor over --max-tensor-elements                 | 413 SKIFF_TENSOR_TOO_LARGE
//  24 | Seldon data.ndarray over --max-tensor-elements                | 413 SKIFF_TENSOR_TOO_LARGE
//  25 | seed {"X": rows} over --max-tensor-elements                   | 413 SKIFF_TENSOR_TOO_LARGE
//  26 | gRPC ModelInfer over --max-tensor-elements                    | gRPC RESOURCE_EXHAUSTED
//  27 | a shape whose product passes 2^53 (wrap-around attempt)       | 413 SKIFF_TENSOR_TOO_LARGE
//  28 | "data" nested 40 levels                                       | 400 SKIFF_BAD_TENSOR nested too deeply
//  29 | a JSON body nested 100000 levels (OIP)                        | 400 SKIFF_BAD_TENSOR nested too deeply
//  30 | a JSON body nested 100000 levels (KServe V1)                  | 400 SKIFF_BAD_TENSOR nested too deeply
//     | NaN and Infinity                                              |
//  31 | a NaN literal in the JSON                                     | 400 SKIFF_BAD_REQUEST not valid JSON
//  32 | "NaN" as a string where FP32 belongs                          | 400 SKIFF_BAD_TENSOR expected a number
//  33 | 1e999 (overflows to Infinity)                                 | 400 SKIFF_BAD_TENSOR expected a finite number
//  34 | 1e39 for FP32 (Infinity once narrowed)                        | 400 SKIFF_BAD_TENSOR expected a finite number
//     | wrong shapes and dtypes                                       |
//  35 | a fractional dimension (1.5)                                  | 400 SKIFF_BAD_TENSOR
//  36 | a shape given as a string                                     | 400 SKIFF_BAD_TENSOR
//  37 | wrong rank (3-D for a 2-D input)                              | 400 SKIFF_BAD_TENSOR
//  38 | lower-case datatype "fp32"                                    | 400 SKIFF_BAD_TENSOR
//  39 | gRPC: wrong datatype                                          | gRPC INVALID_ARGUMENT
//  40 | gRPC: contents that do not fit the shape                      | gRPC INVALID_ARGUMENT
//     | negative sizes                                                |
//  41 | gRPC: a negative dimension                                    | gRPC INVALID_ARGUMENT
//  42 | Seldon: a negative dimension                                  | 400 SKIFF_BAD_TENSOR
//  43 | negative binary_data_size                                     | 400 SKIFF_BAD_TENSOR
//  44 | negative Inference-Header-Content-Length                      | 400 SKIFF_BAD_REQUEST
//  45 | Content-Length: -1                                            | 400 malformed HTTP request
//  46 | top_k=-3                                                      | 400 SKIFF_BAD_PARAMETER
//     | unicode in model names                                        |
//  47 | an emoji model name on OIP infer                              | 404 SKIFF_MODEL_NOT_FOUND
//  48 | an invalid percent-encoding in the model name                 | 400 SKIFF_BAD_REQUEST
//  49 | a non-ASCII name to repository load                           | 404 SKIFF_MODEL_NOT_FOUND
//  50 | a right-to-left override and a NUL in a model name            | 404 SKIFF_MODEL_NOT_FOUND
//  51 | an emoji model name over gRPC                                 | gRPC NOT_FOUND
//     | path traversal                                                |
//  52 | repository load of ..%2F..%2Fetc                              | 404 SKIFF_MODEL_NOT_FOUND
//  53 | repository load of an absolute path (%2Fetc%2Fpasswd)         | 404 SKIFF_MODEL_NOT_FOUND
//  54 | OIP infer on ..%2F..%2Fetc%2Fpasswd                           | 404 SKIFF_MODEL_NOT_FOUND
//  55 | an unnormalised /v2/models/../../etc/passwd/ready             | 404 SKIFF_ROUTE_NOT_FOUND
//  56 | /predict?model=../linear                                      | 404 SKIFF_MODEL_NOT_FOUND
//     | slow and broken clients                                       |
//  57 | slowloris: headers never finished                             | 408 JSON error, connection closed
//  58 | slow body: fewer bytes than Content-Length, then silence      | 408 JSON error, connection closed
//  59 | headers over 16 KiB                                           | 431 JSON error
//  60 | broken chunked transfer encoding                              | 400 malformed HTTP request
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { RunningServer } from '../../src/server.js';
import { fixtureModel } from '../helpers/paths.js';
import { startTestServer } from '../helpers/test-server.js';
import { inferenceClient } from '../helpers/grpc-client.js';
import type { InferenceClient } from '../helpers/grpc-client.js';

/** Test-sized limits, so that every limit can be crossed cheaply. */
const MAX_BODY_BYTES = 1 << 20;
const MAX_TENSOR_ELEMENTS = 10_000;

/** `linear` (tabular-linear: X FP32 [-1,4] → score) and `color` (tiny-color, an 8x8 image classifier). */
function makeRepository(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'skiff-bad-input-'));
  const put = (from: string, ...to: string[]): void => {
    mkdirSync(path.join(root, ...to.slice(0, -1)), { recursive: true });
    copyFileSync(from, path.join(root, ...to));
  };
  put(fixtureModel('tabular-linear/model.onnx'), 'linear', 'model.onnx');
  put(fixtureModel('tiny-color/model.onnx'), 'color', 'model.onnx');
  put(fixtureModel('tiny-color/labels.txt'), 'color', 'labels.txt');
  return root;
}

/** What came back: an HTTP status and the "error" of the JSON body, or a gRPC status and its details. */
interface Outcome {
  readonly status: number | `grpc ${string}`;
  readonly error: string;
}

async function fromResponse(response: Response): Promise<Outcome> {
  const text = await response.text();
  let error: string;
  try {
    error = String((JSON.parse(text) as { error?: unknown }).error);
  } catch {
    error = `(not JSON) ${text.slice(0, 200)}`;
  }
  return { status: response.status, error };
}

/**
 * Writes `request` on a fresh socket exactly as given (no normalisation, no framing by a client library),
 * optionally stops writing and stays silent, and returns what the server answered before closing.
 */
function raw(port: number, request: string | Buffer, waitMs = 10_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('latin1');
      // One full response is enough: a keep-alive connection would otherwise stay open.
      const head = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text)?.[1];
      if (head !== -1 && length !== undefined && text.length >= head + 4 + Number(length)) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      let error = `(not JSON) ${text.slice(0, 200)}`;
      try {
        error = String((JSON.parse(body) as { error?: unknown }).error);
      } catch {
        // keep the raw text for the assertion message
      }
      resolve({ status, error });
    });
    const timer = setTimeout(() => socket.destroy(), waitMs);
  });
}

function multipart(boundary: string, parts: string[], close = true): Buffer {
  return Buffer.from(
    parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('') + (close ? `--${boundary}--\r\n` : ''),
  );
}

function nested(depth: number, inner: string): string {
  return '['.repeat(depth) + inner + ']'.repeat(depth);
}

describe('bad input on every protocol', () => {
  let server: RunningServer;
  let grpc: InferenceClient;
  let images: Record<string, Buffer>;
  before(async () => {
    server = await startTestServer({
      model: 'unused',
      modelRepository: makeRepository(),
      repositoryApi: true,
      grpcPort: 0,
      maxBodyBytes: MAX_BODY_BYTES,
      maxTensorElements: MAX_TENSOR_ELEMENTS,
      maxImagePixels: 1_000_000,
      // The options' minimum (1 s), so the slow-client cases stay short; Node checks
      // connections once a second, so a cut-off comes 1–2 s after the start.
      headersTimeoutMs: 1000,
      bodyTimeoutMs: 1000,
    });
    grpc = inferenceClient(server.grpcPort ?? 0);
    // Noise, so every format has real compressed data to garble; seeded, so every run garbles the same bytes
    // (sharp's own noise differs per run, and some garbled WebPs happen to decode).
    let seed = 12345;
    const pixels = Buffer.alloc(64 * 48 * 3);
    for (let i = 0; i < pixels.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      pixels[i] = seed >>> 23;
    }
    const noise = sharp(pixels, { raw: { width: 64, height: 48, channels: 3 } });
    images = {};
    for (const format of ['jpeg', 'webp', 'gif', 'tiff', 'avif'] as const)
      images[format] = await noise.clone().toFormat(format).toBuffer();
  });
  after(async () => {
    grpc.close();
    await server.close();
  });

  const url = (p: string): string => `${server.url}${p}`;
  const post = async (p: string, body: string | Buffer, headers: Record<string, string>): Promise<Outcome> =>
    fromResponse(await fetch(url(p), { method: 'POST', headers, body }));
  const json = (p: string, body: unknown): Promise<Outcome> =>
    post(p, typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': 'application/json' });
  const infer = (body: unknown, model = 'linear'): Promise<Outcome> =>
    json(`/v2/models/${model}/infer`, body);
  const x = (over: Record<string, unknown>): Record<string, unknown> => ({
    inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4], ...over }],
  });
  const image = (bytes: Buffer, type: string): Promise<Outcome> =>
    post('/predict?model=color', bytes, { 'content-type': type });
  const truncated = (format: string): Buffer => {
    const bytes = images[format] ?? Buffer.alloc(0);
    return bytes.subarray(0, Math.floor(bytes.length / 2));
  };
  /** Flips every byte in [from, to) of the encoded image: the header survives, the data does not. */
  const garbled = (format: string, from: number, to: number): Buffer => {
    const bytes = Buffer.from(images[format] ?? Buffer.alloc(0));
    for (let i = from; i < Math.min(to, bytes.length - 4); i++) bytes[i] = (bytes[i] ?? 0) ^ 0xff;
    return bytes;
  };
  const grpcOutcome = async (request: object): Promise<Outcome> => {
    const error = await grpc.fail('ModelInfer', request);
    return { status: `grpc ${error.code}`, error: error.details };
  };
  const grpcX = (over: Record<string, unknown>): object => ({
    model_name: 'linear',
    inputs: [
      { name: 'X', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] }, ...over },
    ],
  });
  const boundary = 'skiffboundary';
  const formType = `multipart/form-data; boundary=${boundary}`;
  const imagePart = (name: string): string =>
    `Content-Disposition: form-data; name="${name}"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\nnot really`;

  const cases: [string, () => Promise<Outcome>, Outcome['status'], RegExp][] = [
    // multipart and content types
    [
      'multipart part with a malformed header',
      () =>
        post('/predict?model=color', multipart(boundary, ['this is not a header\r\n\r\nbody']), {
          'content-type': formType,
        }),
      400,
      /^the form has no file field "image" \(found no fields\); send the image as a multipart\/form-data file field/,
    ],
    [
      'multipart cut off before its closing boundary',
      () =>
        post('/predict?model=color', multipart(boundary, [imagePart('image').slice(0, 60)], false), {
          'content-type': formType,
        }),
      400,
      /^malformed multipart request: Unexpected end of multipart data$/,
    ],
    [
      'multipart with two image files',
      () =>
        post('/predict?model=color', multipart(boundary, [imagePart('image'), imagePart('image')]), {
          'content-type': formType,
        }),
      400,
      /^malformed multipart request: reach files limit/,
    ],
    [
      'multipart content type without a boundary',
      () => post('/predict?model=color', 'whatever', { 'content-type': 'multipart/form-data' }),
      400,
      /^malformed multipart request/,
    ],
    [
      'text/plain to KServe V1',
      () => post('/v1/models/linear:predict', '{"instances": [[1,2,3,4]]}', { 'content-type': 'text/plain' }),
      400,
      /^expected a JSON object with "instances" or "inputs"$/,
    ],
    [
      'application/xml to Seldon',
      () => post('/api/v1.0/predictions?model=linear', '<data/>', { 'content-type': 'application/xml' }),
      415,
      /^content type "application\/xml" is not accepted by \/api\/v1.0\/predictions; send application\/json$/,
    ],
    // images
    ['truncated WebP', () => image(truncated('webp'), 'image/webp'), 400, /not an image Skiff can read/],
    ['corrupt WebP', () => image(garbled('webp', 30, 100), 'image/webp'), 400, /corrupt or truncated/],
    ['truncated GIF', () => image(truncated('gif'), 'image/gif'), 400, /not an image Skiff can read/],
    ['corrupt GIF', () => image(garbled('gif', 800, 4000), 'image/gif'), 400, /not an image Skiff can read/],
    ['truncated TIFF', () => image(truncated('tiff'), 'image/tiff'), 400, /not an image Skiff can read/],
    [
      'corrupt TIFF',
      () => image(garbled('tiff', 700, 2400), 'image/tiff'),
      400,
      /not an image Skiff can read/,
    ],
    ['truncated AVIF', () => image(truncated('avif'), 'image/avif'), 400, /corrupt or truncated/],
    ['corrupt AVIF', () => image(garbled('avif', 350, 1100), 'image/avif'), 400, /corrupt or truncated/],
    ['corrupt JPEG', () => image(garbled('jpeg', 600, 1700), 'image/jpeg'), 400, /corrupt or truncated/],
    [
      'JPEG bomb claiming 60000 x 60000',
      async () => {
        const jpeg = Buffer.from(
          await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
            .jpeg()
            .toBuffer(),
        );
        // SOF0: marker, length (2), precision (1), height (2), width (2).
        const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
        jpeg.writeUInt16BE(60000, sof + 5);
        jpeg.writeUInt16BE(60000, sof + 7);
        return image(jpeg, 'image/jpeg');
      },
      413,
      /^the image is 60000x60000 \(3600000000 pixels\); the limit is 1000000 pixels \(--max-image-pixels\)$/,
    ],
    [
      'truncated image as a KServe V1 b64 instance',
      () => json('/v1/models/color:predict', { instances: [{ b64: truncated('avif').toString('base64') }] }),
      400,
      /corrupt or truncated/,
    ],
    [
      'Seldon binData that is not an image',
      () => json('/api/v1.0/predictions?model=color', { binData: Buffer.from('hello').toString('base64') }),
      400,
      /not an image Skiff can read/,
    ],
    // huge and deep JSON, element-count limit
    [
      'JSON body over --max-body-bytes',
      () => infer(x({ shape: [1, 4], data: Array.from({ length: 300_000 }, () => 1.5) })),
      413,
      /^the request body is larger than the limit \(--max-body-bytes\)$/,
    ],
    [
      'OIP JSON tensor over --max-tensor-elements',
      () => infer(x({ shape: [2501, 4], data: [1, 2, 3, 4] })),
      413,
      /^input "X": shape \[2501,4\] has 10004 elements, more than the limit of 10000 \(--max-tensor-elements\)$/,
    ],
    [
      'OIP binary tensor over --max-tensor-elements',
      () => {
        const data = Buffer.alloc(2501 * 4 * 4);
        const header = Buffer.from(
          JSON.stringify(
            x({ shape: [2501, 4], data: undefined, parameters: { binary_data_size: data.length } }),
          ),
        );
        return post('/v2/models/linear/infer', Buffer.concat([header, data]), {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(header.length),
        });
      },
      413,
      /^input "X": shape \[2501,4\] has 10004 elements, more than the limit/,
    ],
    [
      'KServe V1 instances over --max-tensor-elements',
      () =>
        json('/v1/models/linear:predict', {
          instances: Array.from({ length: 50 }, () => Array.from({ length: 201 }, () => 1)),
        }),
      413,
      /^input "X": shape \[50,201\] has 10050 elements/,
    ],
    [
      'KServe V1 instances over --max-instances',
      () =>
        json('/v1/models/linear:predict', { instances: Array.from({ length: 2501 }, () => [1, 2, 3, 4]) }),
      413,
      /^2501 instances in one request; the limit is 64 \(--max-instances\)$/,
    ],
    [
      'Seldon data.tensor over --max-tensor-elements',
      () =>
        json('/api/v1.0/predictions?model=linear', {
          data: { tensor: { shape: [100_000, 4], values: [1] } },
        }),
      413,
      /^input "X": shape \[100000,4\] has 400000 elements/,
    ],
    [
      'Seldon data.ndarray over --max-tensor-elements',
      () =>
        json('/api/v1.0/predictions?model=linear', {
          data: { ndarray: Array.from({ length: 2501 }, () => [1, 2, 3, 4]) },
        }),
      413,
      /^input "X": shape \[2501,4\] has 10004 elements/,
    ],
    [
      'seed {"X": rows} over --max-tensor-elements',
      () => json('/predict?model=linear', { X: Array.from({ length: 2501 }, () => [1, 2, 3, 4]) }),
      413,
      /^input "X": shape \[2501,4\] has 10004 elements/,
    ],
    [
      'gRPC ModelInfer over --max-tensor-elements',
      () => grpcOutcome(grpcX({ shape: ['2501', '4'] })),
      'grpc 8',
      /^input "X": shape \[2501,4\] has 10004 elements, more than the limit of 10000/,
    ],
    [
      'a shape whose product passes 2^53',
      () => infer(x({ shape: [2 ** 30, 2 ** 30, 2 ** 30], data: [1] })),
      413,
      /^input "X": shape \[1073741824,1073741824,1073741824\] has \d\.\d+e\+27 elements/,
    ],
    [
      '"data" nested 40 levels',
      () => infer(x({ shape: [1, 4], data: JSON.parse(nested(40, '1')) as unknown })),
      400,
      /^the JSON body is nested too deeply \(more than 32 levels, --max-json-depth\)$/,
    ],
    [
      'a JSON body nested 100000 levels (OIP)',
      () =>
        infer(
          `{"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": ${nested(100_000, '1')}}]}`,
        ),
      400,
      /^the JSON body is nested too deeply \(more than 32 levels, --max-json-depth\)$/,
    ],
    [
      'a JSON body nested 100000 levels (KServe V1)',
      () => json('/v1/models/linear:predict', `{"instances": ${nested(100_000, '1')}}`),
      400,
      /^the JSON body is nested too deeply \(more than 32 levels, --max-json-depth\)$/,
    ],
    // NaN and Infinity
    [
      'a NaN literal',
      () => infer('{"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [NaN, 1, 2, 3]}]}'),
      400,
      /^the request body is not valid JSON$/,
    ],
    [
      '"NaN" as a string',
      () => infer(x({ data: ['NaN', 1, 2, 3] })),
      400,
      /^input "X": element 0 is "NaN", expected a number for FP32$/,
    ],
    [
      '1e999',
      () =>
        infer('{"inputs": [{"name": "X", "datatype": "FP32", "shape": [1, 4], "data": [1, 1e999, 2, 3]}]}'),
      400,
      /^input "X": element 1 is Infinity, expected a finite number \(at most 3\.4028234663852886e\+38 in magnitude\) for FP32$/,
    ],
    [
      '1e39 for FP32',
      () => infer(x({ data: [1, 2, -1e39, 3] })),
      400,
      /^input "X": element 2 is -1e\+39, expected a finite number/,
    ],
    // wrong shapes and dtypes
    [
      'a fractional dimension',
      () => infer(x({ shape: [1.5, 4] })),
      400,
      /^input "X": shape must be an array of non-negative integers$/,
    ],
    [
      'a shape given as a string',
      () => infer(x({ shape: '1,4' })),
      400,
      /^input "X": shape must be an array of non-negative integers$/,
    ],
    [
      'wrong rank',
      () => infer(x({ shape: [1, 1, 4] })),
      400,
      /^input "X" has shape \[1,1,4\] but the model takes \[-1,4\]$/,
    ],
    [
      'lower-case datatype',
      () => infer(x({ datatype: 'fp32' })),
      400,
      /^input "X": datatype "fp32" is not one of BOOL, /,
    ],
    [
      'gRPC: wrong datatype',
      () => grpcOutcome(grpcX({ datatype: 'INT32', contents: { int_contents: [1, 2, 3, 4] } })),
      'grpc 3',
      /^input "X" must be FP32, got INT32$/,
    ],
    [
      'gRPC: contents that do not fit the shape',
      () => grpcOutcome(grpcX({ contents: { fp32_contents: [1, 2, 3] } })),
      'grpc 3',
      /^input "X": 3 values in contents.fp32_contents do not fit shape \[1,4\] \(4 expected\)$/,
    ],
    // negative sizes
    [
      'gRPC: a negative dimension',
      () => grpcOutcome(grpcX({ shape: ['-1', '4'] })),
      'grpc 3',
      /^input "X": shape \[-1,4\] must hold non-negative integers$/,
    ],
    [
      'Seldon: a negative dimension',
      () =>
        json('/api/v1.0/predictions?model=linear', {
          data: { tensor: { shape: [-1, -4], values: [1, 2, 3, 4] } },
        }),
      400,
      /^data.tensor.shape must be a list of non-negative integers$/,
    ],
    [
      'negative binary_data_size',
      () => {
        const header = Buffer.from(
          JSON.stringify(x({ data: undefined, parameters: { binary_data_size: -16 } })),
        );
        return post('/v2/models/linear/infer', Buffer.concat([header, Buffer.alloc(16)]), {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(header.length),
        });
      },
      400,
      /^input "X": binary_data_size -16 runs past the end of the body$/,
    ],
    [
      'negative Inference-Header-Content-Length',
      () =>
        post('/v2/models/linear/infer', JSON.stringify(x({})), {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': '-5',
        }),
      400,
      /^Inference-Header-Content-Length must be a whole number of bytes$/,
    ],
    [
      'Content-Length: -1',
      () =>
        raw(
          server.port,
          'POST /v2/models/linear/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}',
        ),
      400,
      /^malformed HTTP request: the Content-Length header is not a valid length$/,
    ],
    [
      'top_k=-3',
      () => post('/predict?model=color&top_k=-3', images.jpeg ?? '', { 'content-type': 'image/jpeg' }),
      400,
      /^top_k must be a positive whole number, got "-3"$/,
    ],
    // unicode in model names
    ['an emoji model name', () => infer(x({}), encodeURIComponent('🙂')), 404, /^no model named "🙂"$/],
    [
      'an invalid percent-encoding in the model name',
      () => infer(x({}), '%E0%A4%A'),
      400,
      /^the URL path is not valid percent-encoded UTF-8$/,
    ],
    [
      'a non-ASCII name to repository load',
      () => post(`/v2/repository/models/${encodeURIComponent('modèle')}/load`, '', {}),
      404,
      /^"modèle" is not a valid model name \(letters, digits, ".", "_", "-"\)$/,
    ],
    [
      'a right-to-left override and a NUL in a model name',
      () => infer(x({}), encodeURIComponent('lin\u202Eear\u0000')),
      404,
      /^no model named "lin\u202Eear[^"]"$/,
    ],
    [
      'an emoji model name over gRPC',
      () => grpcOutcome({ ...grpcX({}), model_name: '🙂' }),
      'grpc 5',
      /^no model named "🙂"/,
    ],
    // path traversal
    [
      'repository load of ..%2F..%2Fetc',
      () => post('/v2/repository/models/..%2F..%2Fetc/load', '', {}),
      404,
      /^"\.\.\/\.\.\/etc" is not a valid model name/,
    ],
    [
      'repository load of an absolute path',
      () => post('/v2/repository/models/%2Fetc%2Fpasswd/load', '', {}),
      404,
      /^"\/etc\/passwd" is not a valid model name/,
    ],
    [
      'OIP infer on ..%2F..%2Fetc%2Fpasswd',
      () => infer(x({}), '..%2F..%2Fetc%2Fpasswd'),
      404,
      /^no model named "\.\.\/\.\.\/etc\/passwd"$/,
    ],
    [
      'an unnormalised /v2/models/../../etc/passwd/ready',
      () => raw(server.port, 'GET /v2/models/../../etc/passwd/ready HTTP/1.1\r\nHost: x\r\n\r\n'),
      404,
      /^no route GET \/v2\/models\/\.\.\/\.\.\/etc\/passwd\/ready; see docs\/api.md for the routes$/,
    ],
    [
      '/predict?model=../linear',
      () => json('/predict?model=../linear', { X: [1, 2, 3, 4] }),
      404,
      /^no model named "\.\.\/linear"$/,
    ],
    // slow and broken clients
    [
      'slowloris: headers never finished',
      () => raw(server.port, 'POST /v2/models/linear/infer HTTP/1.1\r\nHost: x\r\nX-Slow: '),
      408,
      /^the request did not arrive in time: headers are due within --headers-timeout-ms/,
    ],
    [
      'slow body: fewer bytes than Content-Length, then silence',
      () =>
        raw(
          server.port,
          'POST /v2/models/linear/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"inputs"',
        ),
      408,
      /^the request did not arrive in time/,
    ],
    [
      'headers over 16 KiB',
      () =>
        raw(server.port, `GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
      431,
      /^the request headers are larger than the server accepts/,
    ],
    [
      'broken chunked transfer encoding',
      () =>
        raw(
          server.port,
          'POST /v2/models/linear/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
        ),
      400,
      /^malformed HTTP request: the chunked transfer encoding is broken$/,
    ],
  ];

  for (const [kind, run, status, message] of cases) {
    test(kind, async () => {
      const outcome = await run();
      assert.equal(outcome.status, status, `${kind}: ${outcome.error}`);
      assert.match(outcome.error, message, kind);
      assert.doesNotMatch(
        outcome.error,
        /\/work\/|\/tmp\/|at .*\.js:\d+|node_modules/,
        'no paths or stack traces',
      );
      // Still live, and still serving a good request.
      assert.equal((await fetch(url('/v2/health/live'))).status, 200);
      const good = await infer(x({}));
      assert.equal(good.status, 200, good.error);
    });
  }

  test('the suite covers at least 40 kinds', () => {
    assert.ok(cases.length >= 40, `${cases.length} kinds`);
  });
});
