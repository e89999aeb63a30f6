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

/** A runtime whose loads never finish unless aborted, like one stuck in native code that honours its signal. */
class StuckRuntime implements Runtime {
  readonly name = 'stuck';
  readonly signals: AbortSignal[] = [];
  load(_modelPath: string, _options: RuntimeLoadOptions, signal?: AbortSignal): Promise<LoadedModel> {
    if (signal !== undefined) this.signals.push(signal);
    return new Promise((_resolve, reject) => {
      signal?.addEventListener('abort', () => reject(new Error(`aborted: ${String(signal.reason)}`)));
    });
  }
}

test('dispose aborts a preload that is still loading instead of waiting for it', async () => {
  const inner = new StuckRuntime();
  const runtime = new PreloadingRuntime(inner);
  runtime.preload('stuck.onnx', ONE);
  await runtime.dispose();
  assert.equal(inner.signals[0]?.aborted, true);
});

test("the claimer's abort reaches the preload it is handed", async () => {
  const inner = new StuckRuntime();
  const runtime = new PreloadingRuntime(inner);
  runtime.preload('stuck.onnx', ONE);
  const abort = new AbortController();
  const loading = runtime.load('stuck.onnx', ONE, abort.signal);
  abort.abort('timed out');
  await assert.rejects(loading, /aborted: timed out/);
});
