import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const dir = mkdtempSync(path.join(tmpdir(), 'skiff-exit-process-test-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const blockers = new URL('./exit-blockers.js', import.meta.url).href;
const exit = new URL('./exit-process.js', import.meta.url).href;

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs `body` as an ES module that has blockExit, exitProcess and stoppingOnSignal in scope; a process still
 * there after `killAfterMs` is killed with SIGKILL.
 */
function run(body: string, killAfterMs = 20_000): Promise<Ended> {
  const source = `import { blockExit } from ${JSON.stringify(blockers)};
import { exitProcess, stoppingOnSignal } from ${JSON.stringify(exit)};
const log = (message) => process.stderr.write(message + '\\n');
${body}`;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, ms: performance.now() - started });
    });
  });
}

test('nothing blocking: the exit code, as process.exit() gives it', { timeout: 30_000 }, async () => {
  const ended = await run(`await exitProcess(3, { waitMs: 1000, log });`);
  assert.deepEqual([ended.code, ended.signal, ended.stderr], [3, null, '']);
});

test('a blocker that ends within the wait: the exit code', { timeout: 30_000 }, async () => {
  const ended = await run(`const done = blockExit('a short native call');
setTimeout(done, 100);
await exitProcess(4, { waitMs: 5000, log });`);
  assert.deepEqual([ended.code, ended.signal, ended.stderr], [4, null, '']);
});

test('a blocker left after the wait: SIGKILL, saying what held the exit', { timeout: 30_000 }, async () => {
  const ended = await run(`blockExit('a worker loading model.onnx');
await exitProcess(1, { waitMs: 100, log });`);
  assert.deepEqual([ended.code, ended.signal], [null, 'SIGKILL']);
  assert.equal(
    ended.stderr,
    'a thread is stuck in a native call (a worker loading model.onnx), and Node cannot exit until it returns: ' +
      'ending the process with SIGKILL instead of exit code 1\n',
  );
});

test(
  'asked to stop by a signal: the process ends by that signal, its handlers notwithstanding',
  { timeout: 30_000 },
  async () => {
    const ended = await run(`process.on('SIGTERM', () => log('caught'));
stoppingOnSignal('SIGTERM');
blockExit('one');
blockExit('two');
await exitProcess(0, { waitMs: 0, log });`);
    assert.deepEqual([ended.code, ended.signal], [null, 'SIGTERM']);
    assert.match(
      ended.stderr,
      /^2 threads are stuck in a native call \(one; two\), and Node cannot exit until they return: ending the process with SIGTERM instead of exit code 0\n$/,
    );
  },
);

test(
  'a worker thread blocked in a native call: process.exit() would hang, exitProcess does not',
  { timeout: 30_000 },
  async () => {
    const fifo = path.join(dir, 'nobody-writes');
    execFileSync('mkfifo', [fifo]);
    const worker = `const { Worker } = await import('node:worker_threads');
new Worker(${JSON.stringify(`require('node:fs').readFileSync(${JSON.stringify(fifo)})`)}, { eval: true, execArgv: [] });
await new Promise((resolve) => setTimeout(resolve, 300));`;
    const plain = await run(
      `${worker}
setTimeout(() => log('still alive'), 1500);
process.exit(0);`,
      3000,
    );
    // What is avoided: process.exit() waits for the worker's thread, for ever; run() kills it after 3 s.
    assert.equal(plain.signal, 'SIGKILL');
    assert.equal(plain.stderr, '', 'process.exit() never returned to run the timer either');
    const ended = await run(`${worker}
blockExit('the worker reading a FIFO');
stoppingOnSignal('SIGINT');
await exitProcess(0, { waitMs: 0, log });`);
    assert.deepEqual([ended.code, ended.signal], [null, 'SIGINT']);
    assert.ok(ended.ms < 5000, `${ended.ms} ms`);
  },
);
