// The harness checked against cases whose outcome is known, so that a failing attack test means a server
// problem: a quiet server with ordinary traffic meets every expectation, and the watchdog does kill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AttackMonitor } from './attack-monitor.js';
import { findLeaks } from './find-leaks.js';
import { assertHarmless } from './expectations.js';
import type { Answer } from './http-answer.js';
import { sendHttp } from './http-answer.js';
import { MODEL, oipInferRequest, photo, predictRequest } from './inference-payloads.js';
import { runAttack } from './run-attack.js';
import { startSkiff } from './skiff-process.js';

test(
  'benign traffic: ordinary requests and ordinary mistakes meet every expectation',
  { timeout: 60_000 },
  async (t) => {
    const report = await runAttack(t, {
      name: 'benign: 30 /predict, 30 OIP infer, 30 unknown model',
      attack: async ({ server }) => {
        const answers: Answer[] = [];
        for (const payload of [
          predictRequest(photo()),
          oipInferRequest(MODEL),
          oipInferRequest('no-such-model'),
        ])
          for (let i = 0; i < 30; i++) answers.push(await sendHttp(server.url, payload, 10_000));
        return answers;
      },
    });
    assertHarmless(report);
    assert.deepEqual(report.codes, { '200': 60, '404': 30 });
  },
);

test('the watchdog SIGKILLs a server past its RSS ceiling', { timeout: 30_000 }, async () => {
  const server = await startSkiff([]);
  try {
    const monitor = new AttackMonitor({
      pid: server.pid,
      url: server.url,
      referenceUrl: server.url,
      intervalMs: 50,
      rssCeilingBytes: 1,
      probeTimeoutMs: 1000,
      maxOutstandingProbes: 10,
    });
    const exit = await Promise.race([server.exited, sleep(5000).then(() => undefined)]);
    const samples = await monitor.stop();
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL' });
    assert.ok(samples.watchdogFiredAt !== undefined);
  } finally {
    await server.kill();
  }
});

test('the leak finder flags paths, stacks and runtime internals, and passes ordinary messages', () => {
  const workDir = '/tmp/skiff-attack-abc123';
  assert.deepEqual(findLeaks('model "good" is not ready (loading: warming up)', workDir), []);
  assert.deepEqual(findLeaks('no route GET /v2/models/x/nope; see docs/api.md', workDir), []);
  assert.equal(findLeaks(`labels file ${workDir}/repository/m/labels.txt is empty`, workDir).length, 1);
  assert.equal(findLeaks('Error: boom\n    at run (file:///app/dist/src/x.js:10:5)', workDir).length, 2);
  assert.equal(
    findLeaks('Status Message: reshape_helper.h:91 onnxruntime::ReshapeHelper::ReshapeHelper(', workDir)
      .length,
    1,
  );
});
