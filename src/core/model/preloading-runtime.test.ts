import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoadedModel, Runtime, RuntimeLoadOptions } from './runtime.js';
import { PreloadingRuntime } from './preloading-runtime.js';

class CountingRuntime implements Runtime {
  readonly name = 'counting';
  readonly loads: string[] = [];
  closed = 0;
  load(modelPath: string, options: RuntimeLoadOptions): Promise<LoadedModel> {
    this.loads.push(`${modelPath}:${options.workers}x${options.threadsPerWorker}`);
    if (modelPath === 'broken') return Promise.reject(new Error('not a model'));
    return Promise.resolve({
      inputs: [],
      outputs: [],
      infer: () => Promise.resolve({}),
      close: () => {
        this.closed += 1;
        return Promise.resolve();
      },
    });
  }
}

const ONE = { workers: 1, threadsPerWorker: 2 };

test('a preloaded model is handed out once, for the same path and options only', async () => {
  const inner = new CountingRuntime();
  const runtime = new PreloadingRuntime(inner);
  runtime.preload('a.onnx', ONE);
  runtime.preload('a.onnx', ONE);
  assert.deepEqual(inner.loads, ['a.onnx:1x2']);
  await runtime.load('a.onnx', { workers: 2, threadsPerWorker: 1 });
  await runtime.load('a.onnx', ONE);
  await runtime.load('a.onnx', ONE);
  assert.deepEqual(inner.loads, ['a.onnx:1x2', 'a.onnx:2x1', 'a.onnx:1x2']);
  assert.equal(runtime.name, 'counting');
});

test('a failed preload fails the load that claims it, and never goes unhandled', async () => {
  const runtime = new PreloadingRuntime(new CountingRuntime());
  runtime.preload('broken', ONE);
  await new Promise((resolve) => setTimeout(resolve, 10));
  await assert.rejects(runtime.load('broken', ONE), /not a model/);
});

test('dispose closes the preloads nobody claimed, and only those', async () => {
  const inner = new CountingRuntime();
  const runtime = new PreloadingRuntime(inner);
  runtime.preload('a.onnx', ONE);
  runtime.preload('b.onnx', ONE);
  runtime.preload('broken', ONE);
  await runtime.load('a.onnx', ONE);
  await runtime.dispose();
  assert.equal(inner.closed, 1);
  await runtime.dispose();
  assert.equal(inner.closed, 1);
});
