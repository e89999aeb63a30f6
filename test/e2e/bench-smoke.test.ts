// `npm run bench` for a second or two on a tiny fixture model, with no peers: it runs end to end and reports
// every figure issue 16 asks for. No timing is asserted (a shared CI machine vouches for no speed); only that
// each figure is there and is a number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fixtureModel, repoRoot, testImage } from '../helpers/paths.js';

const run = promisify(execFile);

test('the side-by-side bench runs on a fixture and reports every figure', { timeout: 180_000 }, async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'skiff-bench-smoke-'));
  try {
    const { stdout } = await run(process.execPath, [path.join(repoRoot(), 'dist', 'bench', 'run.js')], {
      env: {
        ...process.env,
        BENCH_MODEL: fixtureModel('tiny-color/model.onnx'),
        BENCH_INT8_MODEL: fixtureModel('tiny-color/model.onnx'),
        BENCH_LABELS: fixtureModel('tiny-color/labels.txt'),
        BENCH_PHOTO: testImage('hotdog.jpg'),
        BENCH_WORK_DIR: work,
        BENCH_ROUNDS: '1',
        BENCH_SECONDS: '1',
        BENCH_IDLE_SECONDS: '0.5',
        BENCH_DECODE_SECONDS: '0.3',
        BENCH_WARMUP_SECONDS: '0.3',
        BENCH_CONFIGS: '1x1',
        BENCH_CONCURRENCY: '1,2',
        BENCH_PEERS: '0',
      },
      maxBuffer: 4 * 1024 * 1024,
    });
    const value = (label: RegExp): string => {
      const line = stdout.split('\n').find((l) => label.test(l));
      assert.ok(line !== undefined, `no line for ${String(label)} in:\n${stdout}`);
      return line;
    };
    const numbers = (line: string): number[] =>
      [...line.matchAll(/(-?\d+(?:\.\d+)?)(?=\s*(?:x|ms|ms\/s|s|MiB)\b)/g)].map((m) => Number(m[1]));
    assert.match(value(/^CPU: /), /(AVX|flags)/);
    assert.match(value(/^engine alone \(ONNX Runtime/), /img\/s.*CPU \d+\.\d ms per image/);
    assert.match(value(/^engine alone, int8 model/), /img\/s/);
    for (const row of [
      /^skiff 1x1 +1 /,
      /^skiff 1x1 +2 /,
      /^skiff int8 1x1 +2 /,
      /^skiff 1x1 OIP binary +2 /,
      /^skiff 1x1 OIP JSON +2 /,
      /^skiff 1x1 gRPC +2 /,
    ]) {
      // req/s ... x engine, CPU/req, x eng CPU, main/req, client/req: every column a number.
      const cells = value(row).trim().split(/\s+/).slice(-10);
      assert.ok(
        cells.every((cell) => /^\d+(\.\d+)?x?$/.test(cell)),
        `a figure is missing: ${value(row)}`,
      );
    }
    for (const target of [
      /^ {2}c=2 skiff 1x1 \/ engine alone /,
      /^ {2}c=2 skiff int8 1x1 \/ engine alone \(int8\)/,
      /^ {2}c=1 p50 skiff 1x1 - engine p50/,
      /^ {2}c=2 skiff 1x1 CPU per request \/ engine CPU per image/,
      /^ {2}c=2 main-thread CPU per \/predict multipart JPEG/,
      /^ {2}c=2 main-thread CPU per OIP binary-tensor request/,
      /^ {2}c=2 main-thread CPU per gRPC ModelInfer, the same tensor/,
      /^ {2}idle skiff 1x1: CPU per second/,
      /^ {2}int8 \/ fp32, engine alone/,
      /^ {2}ready from process start \(graph saved\), skiff 1x1/,
      /^ {2}ready from process start, embedded model, first \/ later/,
      /^ {2}RSS per worker/,
    ]) {
      const line = value(target);
      assert.ok(numbers(line).every(Number.isFinite) && numbers(line).length > 0, line);
      assert.match(line, /target .* (met|MISSED)$/);
    }
    assert.match(value(/^ {4}\(fp32 \/ int8 CPU per image, engine alone: /), /\d\.\d+x/);
    // Same-window figures beside the engine-alone ratios: the workers' time in ONNX Runtime, CPU by thread.
    assert.match(
      value(/^ {4}\(in the same windows its model's workers were inside ONNX Runtime runs/),
      /\d+\.\d %/,
    );
    assert.match(value(/^ {4}\(in the same windows, by thread: /), /\d\.\d+x.*\d+\.\d ms per request/);
    // The c=1 latency split on the same requests: a signed figure in ms, for the photo and for OIP.
    assert.match(value(/^ {4}\(on the same requests, mean latency/), /: [+-]\d+\.\d ms/);
    assert.match(value(/^ {4}\(on the same requests, c=1 mean latency/), /: [+-]\d+\.\d ms.*no decoding/);
    assert.match(
      value(/^ {4}\(on the same requests, c=1 mean latency.*skiff 1x1 gRPC/),
      /: [+-]\d+\.\d ms.*no decoding/,
    );
    assert.match(
      value(/^decode alone \(the photo to a 224x224/),
      /p50 \d+\.\d+ ms.*CPU \d+\.\d+ ms per image/,
    );
    assert.match(
      value(/^decode alone, a 4032x3024 phone photo/),
      /p50 \d+\.\d+ ms.*CPU \d+\.\d+ ms per image/,
    );
    assert.match(value(/^ {4}\(the photo's decode alone is /), /server's own part is [+-]?\d/);
    assert.match(value(/^ {4}\(engine \+ decode alone, /), /per request \/ that: \d+\.\d+x/);
    assert.match(value(/^machine: /), /quiet|NOISY/);
    for (const start of [/^ {2}ready, ResNet50 fp32 1x1, first \/ later/, /^ {2}ready, ResNet50 int8 1x1/])
      assert.match(value(start), /\d+\.\d+ \/ \d+\.\d+ s$/);
    for (const start of [/^ {2}RSS after ready, fp32 1x1, first \/ later/, /^ {2}RSS after ready, int8 1x1/])
      assert.match(value(start), /\d+\.\d \/ \d+\.\d MiB$/);
    const raw = JSON.parse(readFileSync(path.join(work, 'last-run.json'), 'utf8')) as {
      engine: unknown[];
      engineInt8: unknown[];
      idle: Record<string, unknown[]>;
      starts: { embedded: { first: { readyMs: number; rssMiB: number } } };
    };
    assert.ok(raw.starts.embedded.first.readyMs > 0 && raw.starts.embedded.first.rssMiB > 0);
    assert.equal(raw.engine.length, 1);
    assert.equal(raw.engineInt8.length, 1);
    assert.ok(Object.keys(raw.idle).length > 0);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
