// ONNX Runtime's optimized graph kept between starts, and the workers' own warm-up, with the real ORT on a
// real model (the committed default model).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Tensor } from '../../src/core/tensor/tensor.js';
import { silentLogger } from '../../src/core/logger.js';
import { OnnxRuntime } from '../../src/runtimes/onnx/onnx-runtime.js';
import { optimizedGraphLocation } from '../../src/runtimes/onnx/optimized-graph-cache.js';
import { encodeModel } from '../fixtures/onnx-writer.js';
import { seededRandom, tinyColorSpec } from '../fixtures/make-fixtures.js';
import { defaultModel } from '../helpers/paths.js';

const MODEL = defaultModel();

/** The same pseudo-random image every time, so outputs can be compared bit for bit across sessions. */
function input(): Record<string, Tensor> {
  const random = seededRandom(7);
  const data = Float32Array.from({ length: 3 * 224 * 224 }, () => random() * 4 - 2);
  return { input: { type: 'FP32', shape: [1, 3, 224, 224], data } };
}

async function runModel(
  modelPath: string,
  dir: string | undefined,
  workers = 1,
  apartFrom = 0,
): Promise<{ outcome: string | undefined; warmedUp: boolean; output: Float32Array }> {
  const model = await new OnnxRuntime(silentLogger, {
    optimizedGraphDir: dir,
    optimizeApartFromBytes: apartFrom,
  }).load(modelPath, {
    workers,
    threadsPerWorker: 1,
  });
  try {
    const name = model.inputs[0]?.name ?? 'input';
    const outputs = await model.infer({ [name]: input().input as Tensor });
    const first = Object.values(outputs)[0];
    assert.ok(first);
    return {
      outcome: model.optimizedGraph?.outcome,
      warmedUp: model.warmedUp,
      output: first.data as Float32Array,
    };
  } finally {
    await model.close();
  }
}

function copyOfModel(): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'skiff-graph-model-')), 'model.onnx');
  copyFileSync(MODEL, file);
  return file;
}

const graphs = (dir: string): string[] => readdirSync(dir).sort();
const graphOf = (dir: string): string => graphs(dir).find((name) => name.endsWith('.onnx')) ?? '';
const weightsOf = (dir: string): string => graphs(dir).find((name) => name.endsWith('.weights')) ?? '';

// The committed model is small: by default its workers optimize it. Every test runs both ways: the model
// optimized in a process of its own (as models of 8 MiB and more are), and by the workers.
for (const [how, apartFrom] of [
  ['in a process of its own', 0],
  ['by the workers', Number.POSITIVE_INFINITY],
] as const)
  describe(`the optimized-graph cache, optimizing ${how}`, () => {
    const runOnce = (modelPath: string, dir: string | undefined, workers = 1): ReturnType<typeof runModel> =>
      runModel(modelPath, dir, workers, apartFrom);
    test('the first load saves the graph, the next starts from it, and both answer bit for bit like no cache', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-graphs-'));
      const plain = await runOnce(MODEL, undefined);
      const first = await runOnce(MODEL, dir);
      const second = await runOnce(MODEL, dir);
      assert.deepEqual([plain.outcome, first.outcome, second.outcome], ['not cached', 'written', 'read']);
      assert.equal(
        graphs(dir).length,
        2,
        `one graph and its weights, no temporary files: ${graphs(dir).join(', ')}`,
      );
      assert.match(graphOf(dir), /^[0-9a-f]{20}-[0-9a-f]{20}\.onnx$/);
      assert.match(weightsOf(dir), /^[0-9a-f]{20}-[0-9a-f]{20}\.[0-9]+-[0-9]+-[0-9a-f]{8}\.weights$/);
      assert.ok(
        statSync(path.join(dir, weightsOf(dir))).size > 1_000_000,
        'the weights live in their own file',
      );
      assert.deepEqual(first.output, plain.output);
      assert.deepEqual(second.output, plain.output);
    });

    test('workers starting together write one graph between them, and leave no lock or temporary file', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-graphs-'));
      assert.equal((await runOnce(MODEL, dir, 2)).outcome, 'written');
      assert.equal(graphs(dir).length, 2, graphs(dir).join(', '));
      assert.match(graphOf(dir), /\.onnx$/);
      assert.match(weightsOf(dir), /\.weights$/);
    });

    test('the first start names its writer: the optimizing process, or a worker of this one', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-graphs-'));
      const saved: Record<string, unknown>[] = [];
      const logger = {
        ...silentLogger,
        info: (message: string, fields?: Record<string, unknown>) => {
          if (message.startsWith("saved ONNX Runtime's optimized graph")) saved.push(fields ?? {});
        },
      };
      const model = await new OnnxRuntime(logger, {
        optimizedGraphDir: dir,
        optimizeApartFromBytes: apartFrom,
      }).load(MODEL, { workers: 2, threadsPerWorker: 1 });
      try {
        assert.equal(model.optimizedGraph?.outcome, 'written');
        assert.equal(model.concurrency, 2);
        // The weights file is named after its writer: pid, thread, random (create-session.ts).
        const [pid, thread] = weightsOf(dir).split('.')[1]?.split('-') ?? [];
        if (apartFrom === 0) {
          assert.notEqual(pid, String(process.pid), 'written by another process');
          assert.equal(thread, '0', "that process's main thread");
          // The log says how long that process took: the part of the start a later one skips.
          assert.equal(saved.length, 1);
          assert.ok(typeof saved[0]?.optimizedApartMs === 'number' && saved[0].optimizedApartMs > 0);
        } else {
          assert.equal(pid, String(process.pid), 'written in this process');
          assert.notEqual(thread, '0', 'by a worker thread');
          assert.equal(saved.length, 1);
          assert.equal(saved[0]?.optimizedApartMs, undefined);
        }
      } finally {
        await model.close();
      }
    });

    // A worker ended mid-write can leave its lock (taken over after 10 minutes): only the child is cleaned up.
    if (apartFrom === 0)
      test('a first start given up on kills its optimizing process and leaves no lock or partial file', async () => {
        for (const delayMs of [20, 60, 120, 180, 240]) {
          const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-graphs-'));
          const controller = new AbortController();
          const timer = setTimeout(() => controller.abort(new Error('given up')), delayMs);
          // Given up on before it is ready, or (the model was quicker) loaded, then closed.
          const loaded = await new OnnxRuntime(silentLogger, {
            optimizedGraphDir: dir,
            optimizeApartFromBytes: apartFrom,
          })
            .load(MODEL, { workers: 1, threadsPerWorker: 1 }, controller.signal)
            .catch((error: unknown) => {
              assert.match(String(error), /given up/);
              return undefined;
            });
          await loaded?.close();
          clearTimeout(timer);
          const left = graphs(dir);
          assert.ok(
            left.every((name) => !name.endsWith('.writing') && !name.endsWith('.tmp')),
            `after ${String(delayMs)} ms: ${left.join(', ')}`,
          );
          // Whatever the moment it was killed, the next start finds a whole graph or makes one, and afterwards
          // the folder holds that graph and its weights only.
          const next = await runOnce(MODEL, dir);
          assert.ok(
            ['read', 'written'].includes(next.outcome ?? ''),
            `after ${String(delayMs)} ms: ${next.outcome}`,
          );
          assert.equal(graphs(dir).length, 2, `after ${String(delayMs)} ms: ${graphs(dir).join(', ')}`);
        }
      });

    test('a graph being written elsewhere is left alone; a writer that died long ago is taken over', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-graphs-'));
      const found = optimizedGraphLocation(MODEL, dir);
      assert.ok('location' in found);
      const lock = `${found.location.file}.writing`;
      writeFileSync(lock, '');
      assert.equal((await runOnce(MODEL, dir)).outcome, 'not cached');
      assert.deepEqual(graphs(dir), [path.basename(lock)], 'the other writer still holds it');
      const longAgo = new Date(Date.now() - 20 * 60_000);
      utimesSync(lock, longAgo, longAgo);
      assert.equal((await runOnce(MODEL, dir)).outcome, 'written');
      assert.equal(graphOf(dir), path.basename(found.location.file));
      assert.match(weightsOf(dir), /\.weights$/);
      assert.equal(graphs(dir).length, 2);
    });

    test('a torn cache file is not trusted: it is replaced by a whole graph', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-graphs-'));
      const found = optimizedGraphLocation(MODEL, dir);
      assert.ok('location' in found);
      const plain = await runOnce(MODEL, undefined);
      await runOnce(MODEL, dir);
      const whole = readFileSync(found.location.file);
      writeFileSync(found.location.file, whole.subarray(0, Math.floor(whole.length / 2)));
      const torn = await runOnce(MODEL, dir);
      assert.equal(torn.outcome, 'written');
      assert.deepEqual(torn.output, plain.output);
      // Whole again: the same graph but for the weights file's name (new for every write, named once per
      // weight), so the size is only close to the first one's.
      const size = readFileSync(found.location.file).length;
      assert.ok(
        size > whole.length * 0.95 && size < whole.length * 1.05,
        `${String(size)} vs ${String(whole.length)}`,
      );
      assert.equal((await runOnce(MODEL, dir)).outcome, 'read');
      assert.equal(graphs(dir).length, 2, `the torn graph's weights were removed: ${graphs(dir).join(', ')}`);
    });

    test('a graph whose weights file is gone or cut short is rebuilt, not trusted', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-graphs-'));
      const plain = await runOnce(MODEL, undefined);
      await runOnce(MODEL, dir);
      const weights = (): string => path.join(dir, weightsOf(dir));
      rmSync(weights());
      const missing = await runOnce(MODEL, dir);
      assert.equal(missing.outcome, 'written');
      assert.deepEqual(missing.output, plain.output);
      const whole = readFileSync(weights());
      writeFileSync(weights(), whole.subarray(0, Math.floor(whole.length / 2)));
      const short = await runOnce(MODEL, dir);
      assert.equal(short.outcome, 'written');
      assert.deepEqual(short.output, plain.output);
      assert.equal(graphs(dir).length, 2, graphs(dir).join(', '));
      assert.equal((await runOnce(MODEL, dir)).outcome, 'read');
    });

    test('a changed model file gets a new graph and the old one is removed', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-graphs-'));
      const model = copyOfModel();
      assert.equal((await runOnce(model, dir)).outcome, 'written');
      const before = graphs(dir);
      utimesSync(model, new Date(), new Date(Date.now() + 60_000));
      assert.equal((await runOnce(model, dir)).outcome, 'written');
      const after = graphs(dir);
      assert.equal(after.length, 2, after.join(', '));
      assert.notDeepEqual(after, before);
      assert.equal(after[0]?.slice(0, 21), before[0]?.slice(0, 21), 'same model file, same prefix');
    });

    test('a cache folder that cannot be made leaves the model loading as usual', async () => {
      const blocker = path.join(mkdtempSync(path.join(os.tmpdir(), 'skiff-graphs-')), 'a-file');
      writeFileSync(blocker, 'not a folder');
      const result = await runOnce(MODEL, path.join(blocker, 'graphs'));
      assert.equal(result.outcome, 'not cached');
      assert.equal(existsSync(path.join(blocker, 'graphs')), false);
    });
  });

describe('the workers warm themselves up before they say they are ready', () => {
  test('a model whose shape is known but for the batch is warmed up in the worker', async () => {
    assert.equal((await runModel(MODEL, undefined)).warmedUp, true);
  });

  test('a model with a dynamic image size is not (the caller warms it up with the size it will use)', async () => {
    const spec = tinyColorSpec('N');
    const dynamic = {
      ...spec,
      inputs: [{ name: 'input', elemType: 'float32' as const, dims: ['N', 3, 'H', 'W'] }],
    };
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'skiff-dynamic-')), 'model.onnx');
    writeFileSync(file, encodeModel(dynamic));
    const model = await new OnnxRuntime(silentLogger).load(file, { workers: 1, threadsPerWorker: 1 });
    try {
      assert.equal(model.warmedUp, false);
      const outputs = await model.infer({
        input: { type: 'FP32', shape: [1, 3, 8, 8], data: new Float32Array(192) },
      });
      assert.deepEqual(outputs.logits?.shape, [1, 4]);
    } finally {
      await model.close();
    }
  });
});
