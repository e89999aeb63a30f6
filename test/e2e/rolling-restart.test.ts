// A rolling restart behind a real load balancer: Debian's nginx on 127.0.0.1 in front of two `skiff serve`
// processes, steady load from several clients the whole time. SIGTERM one (drain delay > 0), wait for it to
// exit 0, start its replacement on the same port, wait until ready; then the same for the other. Not one
// client request may fail, every phase must keep serving, and both replacements must take traffic.
//
// Why nginx may retry a POST here (proxy_next_upstream ... non_idempotent): an inference changes nothing,
// so running it twice is harmless; and Skiff's own refusals happen before any work: a draining server that
// has closed its listener refuses the connection, a request on a keep-alive connection that arrives while
// it closes gets 503, and a replacement that listens before its model is ready answers 503 too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServingCli } from '../helpers/run-cli.js';
import { fixtureModel } from '../helpers/paths.js';
import { startCli } from '../helpers/run-cli.js';
import { freePort, nginxInstalled, startNginx } from '../helpers/nginx.js';

interface Outcome {
  readonly phase: string;
  readonly status: number;
  /** nginx's $upstream_addr: every upstream tried, the one that answered last. */
  readonly upstream: string;
  readonly detail: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function serve(port: number): Promise<ServingCli> {
  return startCli(
    [
      '--model',
      fixtureModel('tiny-color/model.onnx'),
      '--labels',
      fixtureModel('tiny-color/labels.txt'),
      '--name',
      'color',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--grpc-port=-1',
      '--threads-per-worker',
      '1',
    ],
    // A real drain delay: nginx keeps sending during it (it does not read readiness), and it must be served.
    { env: { SKIFF_DRAIN_DELAY_MS: '1000', SKIFF_ACCESS_LOG: 'false' } },
  );
}

const skip = !nginxInstalled() && process.env.CI === undefined;

test(
  'rolling restart of two servers behind nginx under steady load: zero failed requests',
  {
    skip: skip ? '/usr/sbin/nginx is not installed (apt-get install nginx-light); CI fails instead' : false,
    timeout: 120_000,
  },
  async (t) => {
    const [portA, portB] = [await freePort(), await freePort()];
    const [startedA, startedB] = await Promise.allSettled([serve(portA), serve(portB)]);
    if (startedA.status === 'rejected' || startedB.status === 'rejected') {
      // Stop the one that did start: nothing else would.
      for (const started of [startedA, startedB])
        if (started.status === 'fulfilled') await started.value.stop('SIGKILL', 5000);
      throw startedA.status === 'rejected' ? startedA.reason : (startedB as PromiseRejectedResult).reason;
    }
    let [a, b] = [startedA.value, startedB.value];
    // Whatever fails below, the servers of the moment and nginx are stopped (a no-op for those that were).
    t.after(() => Promise.all([a.stop('SIGKILL', 5000), b.stop('SIGKILL', 5000)]));
    const nginx = await startNginx([portA, portB]);
    t.after(() => nginx.stop());
    const body = JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 8, 8], data: new Array(192).fill(0.5) }],
    });
    const outcomes: Outcome[] = [];
    let phase = 'before';
    let running = true;
    const started = performance.now();
    const marks: string[] = [];
    const enter = (next: string): void => {
      phase = next;
      marks.push(`${next} at ${((performance.now() - started) / 1000).toFixed(1)} s`);
    };
    const client = async (): Promise<void> => {
      while (running) {
        const during = phase;
        try {
          const response = await fetch(`http://127.0.0.1:${nginx.port}/v2/models/color/infer`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
          const text = await response.text();
          outcomes.push({
            phase: during,
            status: response.status,
            upstream: response.headers.get('x-upstream') ?? '',
            detail: response.status === 200 ? '' : text.slice(0, 200),
          });
        } catch (error) {
          outcomes.push({ phase: during, status: 0, upstream: '', detail: String(error) });
        }
      }
    };
    // Four clients in a closed loop: steady, well below what two servers take, so no 503 is "queue full".
    const clients = Array.from({ length: 4 }, client);
    const codes: (number | null)[] = [];
    try {
      await sleep(1500);

      enter('restarting A');
      codes.push(await a.stop('SIGTERM'));
      assert.match(a.stderr(), /all requests finished; exiting/);
      marks.push(`A exited at ${((performance.now() - started) / 1000).toFixed(1)} s`);
      a = await serve(portA);

      enter('between');
      // fail_timeout=1s: nginx tries A's port again at most a second after it last refused.
      await sleep(2000);

      enter('restarting B');
      codes.push(await b.stop('SIGTERM'));
      assert.match(b.stderr(), /all requests finished; exiting/);
      marks.push(`B exited at ${((performance.now() - started) / 1000).toFixed(1)} s`);
      b = await serve(portB);

      enter('after');
      await sleep(2000);
    } finally {
      running = false;
      await Promise.all(clients);
      await Promise.all([a.stop('SIGTERM'), b.stop('SIGTERM')]);
      await nginx.stop();
    }

    const phases = ['before', 'restarting A', 'between', 'restarting B', 'after'];
    const served = (p: string, port?: number): number =>
      outcomes.filter(
        (o) => o.phase === p && o.status === 200 && (port === undefined || lastUpstream(o) === port),
      ).length;
    const retried = outcomes.filter((o) => o.upstream.includes(',')).length;
    t.diagnostic(
      `${outcomes.length} requests; per phase: ${phases.map((p) => `${p} ${served(p)}`).join(', ')}; ` +
        `${retried} retried on the other server by nginx`,
    );
    t.diagnostic(marks.join('; '));
    const failed = outcomes.filter((o) => o.status !== 200);
    assert.deepEqual(
      failed.slice(0, 5),
      [],
      `${failed.length} failed requests\nnginx error log:\n${nginx.errorLog().slice(-2000)}`,
    );
    assert.deepEqual(codes, [0, 0], 'both servers exit 0 after draining');
    for (const p of phases) assert.ok(served(p) >= 10, `only ${served(p)} requests served while ${p}`);
    // The replacements took traffic: A' once back, B' after its start.
    assert.ok(served('between', portA) + served('restarting B', portA) > 0, "A's replacement served nothing");
    assert.ok(served('after', portB) > 0, "B's replacement served nothing");
  },
);

function lastUpstream(outcome: Outcome): number {
  const last = outcome.upstream.split(',').pop()?.trim() ?? '';
  return Number(last.slice(last.lastIndexOf(':') + 1));
}
