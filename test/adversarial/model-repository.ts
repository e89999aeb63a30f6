import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { modelDir } from './inference-payloads.js';

/**
 * What a model folder in a test repository holds: a copy of the shipped model, a model.onnx that is not an
 * ONNX file, or a FIFO named model.onnx (opening it for reading blocks until someone writes).
 */
export type RepositoryModel = 'copy' | 'broken' | 'fifo';

/** Builds `<workDir>/repository/<name>/model.onnx` (+ model.json and labels) for each model; returns the folder. */
export function makeRepository(workDir: string, models: Readonly<Record<string, RepositoryModel>>): string {
  const root = path.join(workDir, 'repository');
  for (const [name, kind] of Object.entries(models)) {
    const dir = path.join(root, name);
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(modelDir(), 'labels.txt'), path.join(dir, 'labels.txt'));
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ labels: 'labels.txt' }));
    const model = path.join(dir, 'model.onnx');
    if (kind === 'copy') copyFileSync(path.join(modelDir(), 'model.onnx'), model);
    else if (kind === 'broken') writeFileSync(model, 'this is not an ONNX model\n'.repeat(100));
    else makeFifo(model);
  }
  return root;
}

export function makeFifo(file: string): void {
  execFileSync('mkfifo', [file]);
}
