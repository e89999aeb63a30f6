// SIGTERM as Kubernetes sends it: readiness false at once, serving through the drain delay, listeners closed
// after it, requests in flight and queued finish, exit 0; a second signal exits at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import sharp from 'sharp';
import { fixtureModel } from '../helpers/paths.js';
import { startCli } from '../helpers/run-cli.js';

const image = (): Promise<Buffer> =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: '#20d020' } })
    .png()
    .toBuffer();

/** A fresh connection each time (no keep-alive), so "refused" really means the listener is closed. */
function predict(url: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}/predict`,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'image/png', 'content-length': body.length },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('SIGTERM: unready at once, serves through the drain delay, finishes in-flight and queued work, exits 0', async (t) => {
  // slow-color: roughly 250 ms per inference on one thread, so four requests keep the worker busy ~1 s.
  const server = await startCli(
    [
      '--model',
      fixtureModel('slow-color/model.onnx'),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--grpc-port=-1',
      '--threads-per-worker',
      '1',
    ],
    {
      env: { SKIFF_DRAIN_DELAY_MS: '400' },
    },
  );
  // A failure midway leaves the server running: kill it (nothing happens to one that has exited).
  t.after(() => server.stop('SIGKILL', 5000));
  const body = await image();
  const inFlight = [0, 1, 2, 3].map(() => predict(server.url, body));
  await sleep(100);
  const exited = server.stop('SIGTERM');
  await sleep(50);
  const ready = await fetch(`${server.url}/v2/health/ready`);
  assert.equal(ready.status, 400);
  assert.match(((await ready.json()) as { error: string }).error, /shutting down/);
  // Still inside the drain delay: a new request on a new connection is served.
  assert.equal(await predict(server.url, body), 200);
  await sleep(450);
  // Past the delay the listener is closed while the queued work is still running.
  await assert.rejects(predict(server.url, body), /ECONNREFUSED|ECONNRESET|socket hang up/);
  assert.deepEqual(await Promise.all(inFlight), [200, 200, 200, 200]);
  assert.equal(await exited, 0);
  assert.match(server.stderr(), /SIGTERM: not ready; serving for 400 ms more/);
  assert.match(server.stderr(), /all requests finished; exiting/);
});

test('a second signal exits at once', async (t) => {
  const server = await startCli(
    [
      '--model',
      fixtureModel('tabular-linear/model.onnx'),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--grpc-port=-1',
    ],
    {
      env: { SKIFF_DRAIN_DELAY_MS: '60000' },
    },
  );
  t.after(() => server.stop('SIGKILL', 5000));
  server.child.kill('SIGTERM');
  await sleep(200);
  const started = performance.now();
  const code = await server.stop('SIGTERM');
  assert.equal(code, 130);
  assert.ok(performance.now() - started < 3000);
});
