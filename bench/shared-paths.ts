// The benchmarks measure against the full `../shared` folder beside the repository (more models and photos
// than are committed), documented in their --help. Tests never do: they read only the repository's files.
import path from 'node:path';
import { repoRoot } from '../test/helpers/paths.js';

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
