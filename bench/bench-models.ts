import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { resolveCacheDir } from '../src/store/resolve-model-source.js';
import { findZooEntry } from '../src/store/zoo.js';
import { sharedDir } from './shared-paths.js';
import { makeResnet50 } from './make-resnet50.js';
import { makeResnet50Int8 } from './make-resnet50-int8.js';
import { PYTHON, torchAvailable } from './peer-servers.js';

export interface BenchModels {
  /** The float ResNet50 Skiff serves. */
  readonly fp32: string;
  /** Where its weights came from; the peers need `pytorch` (the same weights as a state dict). */
  readonly source: 'pytorch' | 'typescript' | 'given';
  readonly stateDict?: string;
  /** How Skiff gets the int8 ResNet50: the zoo's file from the cache, or our QDQ quantization. */
  readonly int8?:
    | {
        readonly kind: 'zoo';
        readonly model: 'resnet50-int8';
        readonly cacheDir: string;
        /** The cached file itself, for ONNX Runtime alone. */
        readonly file: string;
      }
    | { readonly kind: 'qdq'; readonly model: string; readonly note: string };
}

/** The file the Skiff cache holds under this digest, if any. */
function cached(cacheDir: string, sha256: string): string | undefined {
  const dir = path.join(cacheDir, 'sha256', sha256);
  const [file] = existsSync(dir) ? readdirSync(dir) : [];
  return file === undefined ? undefined : path.join(dir, file);
}

/**
 * Builds what the benchmark serves, once, under `workDir` (bench/.work, ignored by git): with PyTorch, the
 * torchvision ResNet50 with a fixed seed as a state dict and its ONNX export (same weights on both sides);
 * without it, the same architecture from our own ONNX writer. int8: the zoo's file if the Skiff cache holds
 * it, else a QDQ model quantized from the TypeScript float one (BENCH_INT8=0 skips it).
 */
export async function ensureBenchModels(workDir: string, say: (line: string) => void): Promise<BenchModels> {
  const given = process.env.BENCH_MODEL;
  if (given !== undefined && given !== '') {
    // The CI smoke run: a tiny fixture instead of ResNet50, and no peers (they need the PyTorch weights).
    const int8 = process.env.BENCH_INT8_MODEL;
    return {
      fp32: path.resolve(given),
      source: 'given',
      ...(int8 === undefined || int8 === '' || process.env.BENCH_INT8 === '0'
        ? {}
        : { int8: { kind: 'qdq', model: path.resolve(int8), note: 'BENCH_INT8_MODEL' } }),
    };
  }
  let models: BenchModels;
  if (torchAvailable()) {
    const dir = path.join(workDir, 'torch');
    const onnx = path.join(dir, 'resnet50.onnx');
    const stateDict = path.join(dir, 'resnet50.pt');
    if (!existsSync(onnx) || !existsSync(stateDict)) {
      say(`building the random-weight torchvision ResNet50 (${path.relative(process.cwd(), dir)})...`);
      const made = spawnSync(PYTHON, [path.join(workDir, '..', 'peers', 'make_torch_resnet50.py'), dir], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      if (made.status !== 0) throw new Error(`make_torch_resnet50.py failed (exit ${made.status})`);
    }
    models = { fp32: onnx, source: 'pytorch', stateDict };
  } else {
    const onnx = path.join(workDir, 'resnet50.onnx');
    if (!existsSync(onnx)) {
      say('PyTorch not found: building the ResNet50 with our own ONNX writer (the peers will be skipped)...');
      await makeResnet50(onnx);
    }
    models = { fp32: onnx, source: 'typescript' };
  }
  if (process.env.BENCH_INT8 === '0') return models;
  const zoo = findZooEntry('resnet50-int8');
  const cacheDir = resolveCacheDir(process.env);
  const zooFile = zoo === undefined ? undefined : cached(cacheDir, zoo.model.sha256);
  if (zoo !== undefined && zooFile !== undefined && cached(cacheDir, zoo.labels.sha256) !== undefined) {
    return { ...models, int8: { kind: 'zoo', model: 'resnet50-int8', cacheDir, file: zooFile } };
  }
  const int8 = path.join(workDir, 'resnet50-int8.onnx');
  if (!existsSync(int8)) {
    say('building the int8 (QDQ) ResNet50, calibrated on the shared photos (about a minute)...');
    const report = await makeResnet50Int8(int8, path.join(sharedDir(), 'images'));
    say(
      `  int8 vs its float model on ${report.images} photos: same top-1 on ${report.top1Agreement}, logit cosine ${report.meanCosine.toFixed(4)}`,
    );
  }
  return {
    ...models,
    int8: {
      kind: 'qdq',
      model: int8,
      note: "QDQ int8 quantized here from a random-weight ResNet50 (the zoo's resnet50-int8 is not in the Skiff cache)",
    },
  };
}
