import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { multipartBody } from '../../src/loadgen/multipart-body.js';

/** The model every attack runs against: the one Skiff ships, float32 `input` [N,3,224,224] → `logits` [N,1000]. */
export const MODEL = 'mobilenetv2-int8';
export const INPUT = 'input';
export const OUTPUT = 'logits';
export const IMAGE_ELEMENTS = 3 * 224 * 224;

export function modelDir(): string {
  return path.join(repoRoot(), 'models', MODEL);
}

/** A real photo (200 KB JPEG) from the repository's test assets. */
export function photo(file = 'hotdog.jpg'): Buffer {
  return readFileSync(path.join(repoRoot(), 'test', 'assets', 'images', file));
}

export interface HttpPayload {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** `POST /predict` with the photo as the multipart field "image", as `curl -F image=@photo.jpg` sends it. */
export function predictRequest(image: Buffer, model?: string): HttpPayload {
  const { body, contentType } = multipartBody('image', 'photo.jpg', 'image/jpeg', image);
  return {
    path: model === undefined ? '/predict' : `/predict?model=${encodeURIComponent(model)}`,
    headers: { 'content-type': contentType },
    body,
  };
}

/** A float32 tensor of `rows` images, every element 0.25: a real inference, cheap for the client to build. */
export function imageTensor(rows: number): Buffer {
  const raw = Buffer.alloc(rows * IMAGE_ELEMENTS * 4);
  for (let at = 0; at < raw.length; at += 4) raw.writeFloatLE(0.25, at);
  return raw;
}

/** OIP REST infer with the binary tensor extension: a JSON header, then the raw float32 input. */
export function oipInferRequest(model: string, rows = 1): HttpPayload {
  const raw = imageTensor(rows);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: INPUT,
          shape: [rows, 3, 224, 224],
          datatype: 'FP32',
          parameters: { binary_data_size: raw.length },
        },
      ],
      outputs: [{ name: OUTPUT, parameters: { classification: 1 } }],
    }),
  );
  return {
    path: `/v2/models/${encodeURIComponent(model)}/infer`,
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.length),
    },
    body: Buffer.concat([header, raw]),
  };
}
