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

/** `../shared` beside the repository: real models, labels and photos (read-only). */
export function sharedDir(): string {
  return path.join(repoRoot(), '..', 'shared');
}

export function sharedModel(folder: string, file: string): string {
  return path.join(sharedDir(), 'models', folder, file);
}

export function sharedImage(file: string): string {
  return path.join(sharedDir(), 'images', file);
}

export const SYNSET_LABELS = (): string =>
  path.join(sharedDir(), 'models', 'imagenet-labels', 'synset_words.txt');
export const LABELS_1001 = (): string =>
  path.join(sharedDir(), 'models', 'imagenet-labels', 'imagenet_labels_1001_with_background.txt');

/** Generated tiny models (npm run fixtures). */
export function fixtureModel(name: string): string {
  return path.join(repoRoot(), 'test', 'fixtures', 'generated', name);
}

export function cliPath(): string {
  return path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
}
