// Files that never finish opening: a FIFO read blocks until someone writes to it, and nobody will. Start-up
// or the model's load must fail with a clear reason in bounded time, and SIGTERM must still end the process
// within its documented grace (--drain-delay-ms + --shutdown-timeout-ms).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { modelDir } from './inference-payloads.js';
import { makeFifo, makeRepository } from './model-repository.js';
import type { LaunchedSkiff, LogRecord } from './skiff-process.js';
import { launchSkiff, makeWorkDir } from './skiff-process.js';

/** How long start-up, or one model's load, may take to give up on a file that cannot be read. */
const GIVE_UP_MS = 5000;
const DRAIN_DELAY_MS = 500;
const SHUTDOWN_TIMEOUT_MS = 2000;
/** Process teardown after the grace: closing the runtime's threads, flushing the log. */
const EXIT_SLACK_MS = 1500;
const GRACE = [
  '--drain-delay-ms',
  String(DRAIN_DELAY_MS),
  '--shutdown-timeout-ms',
  String(SHUTDOWN_TIMEOUT_MS),
];
/** A reason a person can act on: what is wrong with the file, not a timeout or an internal error. */
const CLEAR_REASON = /not a regular file|fifo|named pipe|special file/i;

const message =
  (pattern: RegExp) =>
  (record: LogRecord): boolean =>
    typeof record.msg === 'string' && pattern.test(record.msg);

/** SIGTERM, then how long the process took to exit (Infinity if it had not within `limitMs`, then SIGKILL). */
async function terminate(server: LaunchedSkiff, limitMs: number): Promise<number> {
  if (!server.alive()) return 0;
  const started = performance.now();
  process.kill(server.pid, 'SIGTERM');
  const exited = await Promise.race([server.exited.then(() => true), sleep(limitMs).then(() => false)]);
  return exited ? performance.now() - started : Infinity;
}

test(
  'control: with an ordinary labels file the server starts and SIGTERM ends it within its grace',
  { timeout: 60_000 },
  async () => {
    const server = launchSkiff(['--labels', path.join(modelDir(), 'labels.txt'), ...GRACE]);
    try {
      assert.ok((await server.logLine(message(/^ready in /), GIVE_UP_MS)) !== undefined, server.stderr());
      const exitMs = await terminate(server, DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + EXIT_SLACK_MS);
      assert.ok(exitMs <= DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + EXIT_SLACK_MS, `exit after ${exitMs} ms`);
      assert.deepEqual(await server.exited, { code: 0, signal: null });
    } finally {
      await server.kill();
    }
  },
);

test(
  'a FIFO given as --labels: start-up fails with a clear reason in bounded time; SIGTERM ends it',
  { timeout: 60_000 },
  async (t) => {
    const workDir = makeWorkDir();
    const fifo = path.join(workDir, 'labels.txt');
    makeFifo(fifo);
    const server = launchSkiff(['--labels', fifo, ...GRACE], workDir);
    const problems: string[] = [];
    try {
      const started = performance.now();
      const outcome = await Promise.race([
        server.exited.then((exit) => ({ exit })),
        server.logLine(message(/^ready in /), GIVE_UP_MS).then((ready) => ({ ready })),
      ]);
      const elapsedMs = performance.now() - started;
      t.diagnostic(
        `after ${elapsedMs.toFixed(0)} ms: ${'exit' in outcome ? `exited ${JSON.stringify(outcome.exit)}` : outcome.ready === undefined ? 'neither ready nor exited' : 'ready'}; stderr: ${server.stderr().slice(-400)}`,
      );
      if ('exit' in outcome) {
        if (outcome.exit.code === 0) problems.push('start-up with an unreadable labels file exited 0');
        if (!CLEAR_REASON.test(server.stderr()))
          problems.push(`the exit gave no clear reason: ${server.stderr().slice(-300)}`);
      } else if (outcome.ready !== undefined) {
        problems.push('the server became ready without its labels');
      } else {
        problems.push(`start-up neither failed nor finished within ${GIVE_UP_MS} ms (it hangs on the FIFO)`);
      }
      const exitMs = await terminate(server, DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + EXIT_SLACK_MS);
      t.diagnostic(
        `SIGTERM → ${Number.isFinite(exitMs) ? `exit in ${exitMs.toFixed(0)} ms` : 'still running'}`,
      );
      if (exitMs > DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + EXIT_SLACK_MS)
        problems.push(
          `SIGTERM did not end the process within ${DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS} ms (+${EXIT_SLACK_MS} ms): ${Number.isFinite(exitMs) ? `${exitMs.toFixed(0)} ms` : 'still running'}`,
        );
    } finally {
      await server.kill();
    }
    assert.deepEqual(problems, []);
  },
);

test(
  'a FIFO as model.onnx in a --model-repository: that model fails with a clear reason in bounded time, the others serve; SIGTERM ends it',
  { timeout: 60_000 },
  async (t) => {
    const workDir = makeWorkDir();
    const repository = makeRepository(workDir, { good: 'copy', stuck: 'fifo' });
    // Readiness is strict by default (every model ready); the lenient reading is what lets the others serve
    // behind a readiness probe, and what this test is about.
    const server = launchSkiff(
      ['--model-repository', repository, '--no-strict-readiness', ...GRACE],
      workDir,
    );
    const problems: string[] = [];
    try {
      const listening = await server.logLine(message(/^listening/), 30_000);
      if (listening === undefined || typeof listening.url !== 'string')
        throw new Error(`the server did not listen:\n${server.stderr()}`);
      const url = listening.url;
      const ready = await server.logLine(message(/^ready in /), GIVE_UP_MS);
      const stuck = await fetch(`${url}/v2/models/stuck/ready`);
      const reason = ((await stuck.json().catch(() => ({}))) as { error?: unknown }).error;
      const good = await fetch(`${url}/v2/models/good/ready`);
      const health = await fetch(`${url}/v2/health/ready`);
      t.diagnostic(
        `ready line: ${ready === undefined ? 'none' : String(ready.msg)}; stuck ready ${stuck.status} ${JSON.stringify(reason)}; good ready ${good.status}; health ready ${health.status}`,
      );
      if (ready === undefined)
        problems.push(`loading the repository did not finish within ${GIVE_UP_MS} ms (it hangs on the FIFO)`);
      if (good.status !== 200) problems.push(`the good model is not ready (${good.status})`);
      if (health.status !== 200)
        problems.push(`the server is not ready (${health.status}) though one model loaded`);
      if (stuck.status !== 400) problems.push(`the FIFO model's readiness answered ${stuck.status}`);
      if (typeof reason !== 'string' || !CLEAR_REASON.test(reason))
        problems.push(`the FIFO model's reason is not clear: ${JSON.stringify(reason)}`);
      const exitMs = await terminate(server, DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + EXIT_SLACK_MS);
      t.diagnostic(
        `SIGTERM → ${Number.isFinite(exitMs) ? `exit in ${exitMs.toFixed(0)} ms` : 'still running'}`,
      );
      if (exitMs > DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + EXIT_SLACK_MS)
        problems.push(
          `SIGTERM did not end the process within ${DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS} ms (+${EXIT_SLACK_MS} ms): ${Number.isFinite(exitMs) ? `${exitMs.toFixed(0)} ms` : 'still running'}`,
        );
    } finally {
      await server.kill();
    }
    assert.deepEqual(problems, []);
  },
);
