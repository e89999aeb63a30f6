// For bench/ only, which measures against the full `../shared` folder beside the repository (more models and
// photos than are committed). No test may use these: tests read only files in the repository (paths.ts).
// They live under test/ because bench/ imports them through paths.ts; moving them into bench/ needs a
// change there.
import path from 'node:path';
import { repoRoot } from './paths.js';

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
