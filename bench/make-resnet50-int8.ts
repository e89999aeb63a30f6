/**
 * Writes an int8 ResNet50 (QDQ; see quantize-qdq.ts) quantized from the random-weight float ResNet50 of
 * make-resnet50.ts, calibrated on the shared photos. It stands in for the zoo's resnet50-int8, which cannot
 * be downloaded here: same architecture, same kind of kernels (U8S8 QLinearConv), so the same speed-up.
 * Script: `node dist/bench/make-resnet50-int8.js [out.onnx]`, default `<repo>/bench/.work/resnet50-int8.onnx`.
 */
import { readdirSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { findRepoRoot } from '../test/fixtures/make-fixtures.js';
import { encodeModel, encodeModelParts } from '../test/fixtures/onnx-writer.js';
import { resnet50Spec } from './make-resnet50.js';
import type { TensorRange } from './quantize-qdq.js';
import { quantizationPoints, quantizeQdq, withCalibrationOutputs } from './quantize-qdq.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** ImageNet preprocessing (shorter side 256, centre crop 224, mean/std, CHW), as Skiff and the zoo do it. */
async function imageTensor(file: string): Promise<Float32Array> {
  const resized = sharp(file).removeAlpha().toColourspace('srgb').resize(256, 256, { fit: 'outside' }).raw();
  const { data, info } = await resized.toBuffer({ resolveWithObject: true });
  const { data: crop } = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .extract({
      left: Math.floor((info.width - 224) / 2),
      top: Math.floor((info.height - 224) / 2),
      width: 224,
      height: 224,
    })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const out = new Float32Array(3 * 224 * 224);
  for (let i = 0; i < 224 * 224; i++)
    for (let c = 0; c < 3; c++)
      out[c * 224 * 224 + i] = ((crop[i * 3 + c] ?? 0) / 255 - (MEAN[c] ?? 0)) / (STD[c] ?? 1);
  return out;
}

export interface Int8Report {
  readonly images: number;
  /** Photos whose int8 top-1 class equals the float model's. */
  readonly top1Agreement: number;
  /** Mean cosine similarity of int8 and float logits. */
  readonly meanCosine: number;
}

/** Calibrates, quantizes and writes the model; returns how closely it follows the float one on the photos. */
export async function makeResnet50Int8(path: string, imagesDir: string, seed = 50): Promise<Int8Report> {
  const spec = resnet50Spec(seed);
  const points = quantizationPoints(spec);
  const files = readdirSync(imagesDir)
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .map((f) => join(imagesDir, f));
  const inputs = await Promise.all(files.map(imageTensor));
  const calibration = await ort.InferenceSession.create(encodeModel(withCalibrationOutputs(spec, points)));
  const ranges = new Map<string, TensorRange>();
  const floatLogits: Float32Array[] = [];
  for (const input of inputs) {
    const out = await calibration.run({ data: new ort.Tensor('float32', input, [1, 3, 224, 224]) });
    floatLogits.push(out.logits?.data as Float32Array);
    for (const point of points) {
      const data = out[point]?.data as Float32Array;
      let { min, max } = ranges.get(point) ?? { min: Infinity, max: -Infinity };
      for (const v of data) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      ranges.set(point, { min, max });
    }
  }
  await calibration.release();
  const quantized = quantizeQdq(spec, ranges);
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomUUID()}.tmp`;
  const file = await open(temporary, 'w');
  try {
    for (const part of encodeModelParts(quantized)) await file.write(part);
  } finally {
    await file.close();
  }
  const check = await ort.InferenceSession.create(temporary);
  let agree = 0;
  let cosines = 0;
  for (const [i, input] of inputs.entries()) {
    const out = await check.run({ data: new ort.Tensor('float32', input, [1, 3, 224, 224]) });
    const q = out.logits?.data as Float32Array;
    const f = floatLogits[i] ?? new Float32Array(0);
    if (argmax(q) === argmax(f)) agree++;
    cosines += cosine(q, f);
  }
  await check.release();
  await rename(temporary, path);
  return { images: inputs.length, top1Agreement: agree, meanCosine: cosines / inputs.length };
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++)
    if ((values[i] ?? -Infinity) > (values[best] ?? -Infinity)) best = i;
  return best;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] ?? 0) * (b[i] ?? 0);
    na += (a[i] ?? 0) ** 2;
    nb += (b[i] ?? 0) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) {
  const root = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
  const target = resolve(process.argv[2] ?? join(root, 'bench', '.work', 'resnet50-int8.onnx'));
  const started = performance.now();
  const report = await makeResnet50Int8(target, join(root, '..', 'shared', 'images'));
  console.log(
    `wrote ${target} in ${Math.round(performance.now() - started)} ms; on ${report.images} photos: top-1 same as float on ${report.top1Agreement}, mean logit cosine ${report.meanCosine.toFixed(4)}`,
  );
}
