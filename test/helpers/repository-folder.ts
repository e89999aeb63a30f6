import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtureModel } from './paths.js';

/** A model repository being written in a fresh temporary folder, one file at a time. */
export interface RepositoryFolder {
  readonly root: string;
  /** Copies a fixture model's file (`fixtureModel(from)`) to `to`, a path inside the repository. */
  fixture(from: string, ...to: string[]): void;
  /** Writes `value` as JSON to `to`, a path inside the repository (e.g. a model.json). */
  json(value: unknown, ...to: string[]): void;
}

export function repositoryFolder(prefix: string): RepositoryFolder {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
  const target = (to: readonly string[]): string => {
    mkdirSync(path.join(root, ...to.slice(0, -1)), { recursive: true });
    return path.join(root, ...to);
  };
  return {
    root,
    fixture: (from, ...to) => copyFileSync(fixtureModel(from), target(to)),
    json: (value, ...to) => writeFileSync(target(to), JSON.stringify(value)),
  };
}
