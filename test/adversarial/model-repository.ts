import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeModel } from '../fixtures/onnx-writer.js';
import { modelDir } from './inference-payloads.js';

/**
 * What a model folder in a test repository holds: a copy of the shipped model; a model.onnx that is not ONNX;
 * a FIFO named model.onnx (opening it blocks until someone writes); a graph with an operator ONNX Runtime
 * does not know; a Reshape whose target shape comes from the request (ONNX Runtime refuses it at run time);
 * a copy with an empty labels file, a labels file that is missing, or a model.json that is not JSON.
 */
export type RepositoryModel =
  | 'copy'
  | 'broken'
  | 'fifo'
  | 'unknown-op'
  | 'runtime-error'
  | 'empty-labels'
  | 'missing-labels'
  | 'bad-config';

/** Builds `<workDir>/repository/<name>/model.onnx` (+ model.json and labels) for each model; returns the folder. */
export function makeRepository(workDir: string, models: Readonly<Record<string, RepositoryModel>>): string {
  const root = path.join(workDir, 'repository');
  for (const [name, kind] of Object.entries(models)) {
    const dir = path.join(root, name);
    mkdirSync(dir, { recursive: true });
    const model = path.join(dir, 'model.onnx');
    const labels = path.join(dir, 'labels.txt');
    const config = path.join(dir, 'model.json');
    const copyModel = (): void => {
      copyFileSync(path.join(modelDir(), 'model.onnx'), model);
      copyFileSync(path.join(modelDir(), 'labels.txt'), labels);
      writeFileSync(config, JSON.stringify({ labels: 'labels.txt' }));
    };
    switch (kind) {
      case 'copy':
        copyModel();
        break;
      case 'broken':
        writeFileSync(model, 'this is not an ONNX model\n'.repeat(100));
        break;
      case 'fifo':
        makeFifo(model);
        break;
      case 'unknown-op':
        writeFileSync(model, unknownOperatorModel());
        break;
      case 'runtime-error':
        writeFileSync(model, requestShapedReshapeModel());
        break;
      case 'empty-labels':
        copyModel();
        writeFileSync(labels, '');
        break;
      case 'missing-labels':
        copyModel();
        writeFileSync(config, JSON.stringify({ labels: 'missing.txt' }));
        break;
      case 'bad-config':
        copyModel();
        writeFileSync(config, '{"labels": ');
        break;
    }
  }
  return root;
}

export function makeFifo(file: string): void {
  execFileSync('mkfifo', [file]);
}

function unknownOperatorModel(): Uint8Array {
  return encodeModel({
    name: 'unknown-op',
    inputs: [{ name: 'X', elemType: 'float32', dims: ['N', 4] }],
    outputs: [{ name: 'Y', elemType: 'float32', dims: ['N', 4] }],
    nodes: [{ opType: 'NoSuchOperator', inputs: ['X'], outputs: ['Y'] }],
  });
}

/** `X` reshaped to the shape `S` the request gives: any S whose product differs fails inside ONNX Runtime. */
export function requestShapedReshapeModel(): Uint8Array {
  return encodeModel({
    name: 'runtime-error',
    inputs: [
      { name: 'X', elemType: 'float32', dims: ['N', 'F'] },
      { name: 'S', elemType: 'int64', dims: [2] },
    ],
    outputs: [{ name: 'Y', elemType: 'float32', dims: ['A', 'B'] }],
    nodes: [{ opType: 'Reshape', inputs: ['X', 'S'], outputs: ['Y'] }],
  });
}
