// Files that hang: a FIFO where Skiff expects a file, and a model load stuck inside a native call, must fail
// with a clear reason in bounded time and never keep `skiff serve` from ending. Node's exit waits for every
// thread, so a thread that never returns used to keep the process alive for ever, SIGTERM or not.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServingCli } from '../helpers/run-cli.js';
import { fixtureModel } from '../helpers/paths.js';
import { runCli, startCli } from '../helpers/run-cli.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'skiff-stuck-files-'));
const running = new Set<ServingCli>();
after(() => {
  for (const cli of running) cli.child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const LISTEN = ['--host', '127.0.0.1', '--port', '0', '--grpc-port=-1'];

function fifo(...parts: string[]): string {
  const file = path.join(root, ...parts);
  mkdirSync(path.dirname(file), { recursive: true });
  execFileSync('mkfifo', [file]);
  return file;
}

/** A model folder holding the tiny-color fixture (and its labels); `stuck` is any word the hook can match. */
function modelFolder(...parts: string[]): string {
  const dir = path.join(root, ...parts);
  mkdirSync(dir, { recursive: true });
  copyFileSync(fixtureModel('tiny-color/model.onnx'), path.join(dir, 'model.onnx'));
  copyFileSync(fixtureModel('tiny-color/labels.txt'), path.join(dir, 'labels.txt'));
  return dir;
}

/**
 * The environment that makes the inference workers of models whose path contains `word` block in a native
 * call for good (test/fixtures/hang-worker.ts): since every file is now checked, no input file can.
 */
let hangs = 0;
function hangWorkersOf(word: string): Record<string, string> {
  const hook = fileURLToPath(new URL('../fixtures/hang-worker.js', import.meta.url));
  return {
    NODE_OPTIONS: `--import=${hook}`,
    HANG_WORKER_FIFO: fifo(`hang-${++hangs}.fifo`),
    HANG_WORKER_MODEL: `${path.sep}${word}${path.sep}`,
  };
}

async function serving(args: readonly string[], env: Record<string, string> = {}): Promise<ServingCli> {
  const cli = await startCli([...args, ...LISTEN], { env, timeoutMs: 30_000 });
  running.add(cli);
  return cli;
}

const infer = (url: string, model: string): Promise<Response> =>
  fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [{ name: 'input', shape: [1, 3, 8, 8], datatype: 'FP32', data: new Array(192).fill(0.5) }],
    }),
  });

async function readyError(url: string, model: string): Promise<string> {
  const response = await fetch(`${url}/v2/models/${model}/ready`);
  assert.equal(response.status, 400);
  return ((await response.json()) as { error: string }).error;
}

describe('a FIFO where a file is expected: refused at once, exit 1', () => {
  const model = fixtureModel('tiny-color/model.onnx');
  const cases: readonly (readonly [string, () => { args: string[]; cwd?: string }, RegExp])[] = [
    [
      '--labels',
      () => ({ args: ['--model', model, '--labels', fifo('labels', 'labels.txt')] }),
      /labels file \S+labels\.txt is a FIFO, not a regular file \[SKIFF_LABELS_INVALID\]$/,
    ],
    [
      '--model',
      () => ({ args: ['--model', fifo('model', 'model.onnx')] }),
      /\S+model\.onnx is a FIFO, not a regular file \[SKIFF_MODEL_FILE_MISSING\]$/,
    ],
    [
      '--config (model.json)',
      () => ({ args: ['--model', model, '--config', fifo('config', 'model.json')] }),
      /model config \S+model\.json is a FIFO, not a regular file \[SKIFF_CONFIG_UNREADABLE\]$/,
    ],
    [
      'skiff.yaml, the project file',
      () => {
        fifo('project', 'skiff.yaml');
        return { args: ['--model', model], cwd: path.join(root, 'project') };
      },
      /\S+skiff\.yaml is a FIFO, not a regular file \[SKIFF_CONFIG_UNREADABLE\]$/,
    ],
  ];
  for (const [title, setUp, message] of cases) {
    test(title, { timeout: 30_000 }, async () => {
      const { args, cwd } = setUp();
      const result = await runCli(['serve', ...args, ...LISTEN], {
        timeoutMs: 20_000,
        ...(cwd === undefined ? {} : { cwd }),
      });
      assert.deepEqual([result.code, result.signal], [1, null], result.stderr);
      assert.match(result.stderr.trim().split('\n').at(-1) ?? '', /^skiff: error: /);
      assert.match(result.stderr.trim(), message);
    });
  }
});

test(
  'a repository: FIFOs as model.onnx, model.json and labels.txt fail their models, the good one serves, SIGTERM exits 0',
  { timeout: 60_000 },
  async () => {
    const repository = path.join(root, 'fifo-repository');
    modelFolder('fifo-repository', 'good');
    fifo('fifo-repository', 'fifo-model', 'model.onnx');
    modelFolder('fifo-repository', 'fifo-config');
    fifo('fifo-repository', 'fifo-config', 'model.json');
    const labels = modelFolder('fifo-repository', 'fifo-labels');
    rmSync(path.join(labels, 'labels.txt'));
    fifo('fifo-repository', 'fifo-labels', 'labels.txt');
    const cli = await serving(['--model-repository', repository]);
    assert.equal((await infer(cli.url, 'good')).status, 200);
    assert.equal(
      await readyError(cli.url, 'fifo-model'),
      'model "fifo-model" failed to load: model file fifo-model/model.onnx is a FIFO, not a regular file',
    );
    assert.equal(
      await readyError(cli.url, 'fifo-config'),
      'model "fifo-config" failed to load: model config fifo-config/model.json is a FIFO, not a regular file',
    );
    assert.equal(
      await readyError(cli.url, 'fifo-labels'),
      'model "fifo-labels" failed to load: labels file fifo-labels/labels.txt is a FIFO, not a regular file',
    );
    assert.deepEqual(await cli.stop('SIGTERM').then(() => cli.ended), { code: 0, signal: null });
  },
);

describe('a model load stuck in a native call', () => {
  test(
    '--model: fails after --model-load-timeout-ms with the reason; the stuck thread cannot hold the exit (SIGKILL)',
    { timeout: 60_000 },
    async () => {
      const dir = modelFolder('alone', 'stuck');
      const started = performance.now();
      const result = await runCli(['serve', '--model', dir, '--model-load-timeout-ms', '1500', ...LISTEN], {
        env: hangWorkersOf('stuck'),
        timeoutMs: 30_000,
      });
      const ms = performance.now() - started;
      assert.deepEqual([result.code, result.signal], [null, 'SIGKILL'], result.stderr);
      assert.match(
        result.stderr,
        /\nskiff: error: the model did not finish loading within 1500 ms; if it is only slow, raise --model-load-timeout-ms \[SKIFF_MODEL_LOAD_FAILED\]\n/,
      );
      assert.match(
        result.stderr,
        /\nskiff: a thread is stuck in a native call \(an inference worker loading \S+model\.onnx\), and Node cannot exit until it returns: ending the process with SIGKILL instead of exit code 1\n$/,
      );
      // The timeout, then at most a second's wait for the thread: nowhere near runCli's 30 s kill.
      assert.ok(ms < 15_000, `${Math.round(ms)} ms`);
    },
  );

  test(
    '--model: SIGTERM during the stuck load ends the process at once, by SIGTERM',
    { timeout: 60_000 },
    async () => {
      const dir = modelFolder('signalled', 'stuck');
      const cli = await startCli([`--model=${dir}`, ...LISTEN], {
        env: hangWorkersOf('stuck'),
        untilListening: true,
        timeoutMs: 30_000,
      });
      running.add(cli);
      const ready = await fetch(`${cli.url}/v2/health/ready`);
      assert.equal(ready.status, 400, 'the model is still loading');
      const started = performance.now();
      cli.child.kill('SIGTERM');
      assert.deepEqual(await cli.ended, { code: null, signal: 'SIGTERM' });
      assert.ok(performance.now() - started < 5000);
      assert.match(cli.stderr(), /"msg":"SIGTERM during start-up: exiting"/);
    },
  );

  test(
    'a repository: that model fails with the reason, the good one serves, SIGTERM ends within the grace',
    { timeout: 60_000 },
    async () => {
      const repository = path.join(root, 'stuck-repository');
      modelFolder('stuck-repository', 'good');
      modelFolder('stuck-repository', 'stuck');
      const cli = await serving(
        [
          '--model-repository',
          repository,
          '--model-load-timeout-ms',
          '1500',
          '--shutdown-timeout-ms',
          '3000',
        ],
        hangWorkersOf('stuck'),
      );
      assert.equal(
        await readyError(cli.url, 'stuck'),
        'model "stuck" failed to load: the model did not finish loading within 1500 ms; if it is only slow, raise --model-load-timeout-ms',
      );
      assert.equal((await infer(cli.url, 'good')).status, 200);
      const started = performance.now();
      cli.child.kill('SIGTERM');
      // Served requests drain and the models unload; the thread still stuck loading ends it by the signal.
      assert.deepEqual(await cli.ended, { code: null, signal: 'SIGTERM' });
      const ms = performance.now() - started;
      assert.ok(
        ms < 3000 + 1000,
        `${Math.round(ms)} ms: the grace is the drain delay (0) + the shutdown timeout`,
      );
      assert.match(cli.stderr(), /"msg":"all requests finished; exiting"/);
      assert.match(
        cli.stderr(),
        /"msg":"a thread is stuck in a native call \(an inference worker loading \S+stuck\/model\.onnx\), and Node cannot exit until it returns: ending the process with SIGTERM instead of exit code 0"/,
      );
    },
  );
});
