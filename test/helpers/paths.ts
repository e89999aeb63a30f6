import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder up from this file whose package.json is named "skiff". */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (
      existsSync(candidate) &&
      (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'skiff'
    )
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the skiff repository root');
    dir = parent;
  }
}

/**
 * The server's embedded default model, committed in `models/`: MobileNet V2 int8 as float32 NCHW with the
 * ImageNet mean and std, 1000 classes, with its model.json (name and labels) beside it.
 */
export function defaultModelDir(): string {
  return path.join(repoRoot(), 'models', 'mobilenetv2-int8');
}

export function defaultModel(): string {
  return path.join(defaultModelDir(), 'model.onnx');
}

/** The committed models of the other input contracts (test/assets/PROVENANCE.md). */
export function testModel(file: string): string {
  return path.join(repoRoot(), 'test', 'assets', 'models', file);
}

/** The committed photos and their expected top-5 (test/assets/PROVENANCE.md). */
export function testImagesDir(): string {
  return path.join(repoRoot(), 'test', 'assets', 'images');
}

export function testImage(file: string): string {
  return path.join(testImagesDir(), file);
}

/** The 1000 ImageNet classes in the standard order, one plain line each (`tench, Tinca tinca`). */
export const IMAGENET_LABELS = (): string => path.join(defaultModelDir(), 'labels.txt');
/** "background", then the same 1000 classes: for the 1001-output MobileNets. */
export const LABELS_1001 = (): string =>
  path.join(repoRoot(), 'test', 'assets', 'labels', 'imagenet_labels_1001_with_background.txt');

/** Generated tiny models (npm run fixtures). */
export function fixtureModel(name: string): string {
  return path.join(repoRoot(), 'test', 'fixtures', 'generated', name);
}

export function cliPath(): string {
  return path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
}
