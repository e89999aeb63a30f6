// The request lifecycle through the real server and real clients, with a model whose inferences the test
// finishes by hand (a fake of our own Runtime interface), so every timing below is decided by the test:
// deadlines from the server and from the client, clients that leave while queued or running (REST and
// gRPC), refusal before the body is read, unanswered pipelined requests, and the URL limit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { status } from '@grpc/grpc-js';
import type { RunningServer } from '../../src/server.js';
import type { LoadedModel } from '../../src/core/model/runtime.js';
import type { Tensor, TensorInfo } from '../../src/core/tensor/tensor.js';
import { FakeLoadedModel, Held, echo } from '../../src/core/testing/fake-loaded-model.js';
import { FakeRuntime } from '../../src/core/testing/fake-runtime.js';
import { settle } from '../../src/core/testing/deferred.js';
import { fixtureModel } from '../helpers/paths.js';
import { startTestServer } from '../helpers/test-server.js';
import { inferenceClient } from '../helpers/grpc-client.js';
import type { InferenceClient } from '../helpers/grpc-client.js';

const INFO: TensorInfo[] = [{ name: 'x', type: 'FP32', shape: [-1, 2] }];
const BODY = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] });
const GRPC_INFER = {
  model_name: 'held',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1, 2] } }],
};
const answer = (): Record<string, Tensor> => ({
  x: { type: 'FP32', shape: [1, 2], data: Float32Array.of(1, 2) },
});

describe('the request lifecycle', () => {
  let server: RunningServer;
  let held: Held;
  let model: FakeLoadedModel;
  let grpc: InferenceClient;

  before(async () => {
    held = new Held();
    let warmedUp = false;
    // The load-time warm-up answers at once; every request after it waits for the test.
    model = new FakeLoadedModel(INFO, INFO, (call) => {
      if (warmedUp) return held.respond(call);
      warmedUp = true;
      return echo(call);
    });
    server = await startTestServer(
      { model: fixtureModel('tabular-linear/model.onnx'), name: 'held', grpcPort: 0, maxQueueSize: 4 },
      { runtime: new FakeRuntime(() => Promise.resolve(model as LoadedModel)) },
    );
    grpc = inferenceClient(server.grpcPort ?? 0);
  });

  after(async () => {
    grpc.close();
    held.finishOpen(answer());
    await server.close();
  });

  /** Inferences the model has been asked for, the warm-up not counted. */
  const runs = (): number => model.calls.length - 1;
  /** Lets every held inference finish, as the model would. */
  const finishAll = async (): Promise<void> => {
    for (let round = 0; round < 20; round++) {
      await settle();
      if (held.open === 0) return;
      held.finishOpen(answer());
    }
  };
  const infer = (headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${server.url}/v2/models/held/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: BODY,
    });
  const waitFor = async (condition: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(condition(), what);
  };

  test("a client's deadline (x-request-timeout-ms) answers 504 while its inference still runs; the next one is served", async () => {
    const before = runs();
    const started = performance.now();
    const response = await infer({ 'x-request-timeout-ms': '80' });
    assert.equal(response.status, 504);
    assert.match(
      ((await response.json()) as { error: string }).error,
      /did not finish within 80 ms \(the client's deadline\)/,
    );
    assert.ok(performance.now() - started < 5000);
    assert.equal(runs(), before + 1, 'it had started');
    await finishAll();
    const next = infer();
    await waitFor(() => runs() === before + 2, 'the next request reaches the model');
    await finishAll();
    assert.equal((await next).status, 200);
  });

  test('REST: a client that leaves while queued is dropped from the queue and never runs', async () => {
    const before = runs();
    const running = infer();
    await waitFor(() => runs() === before + 1, 'the first request runs');
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `POST /v2/models/held/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`,
    );
    await waitFor(() => server.service.model('held').queueDepth.queued === 1, 'the second request is queued');
    socket.destroy();
    await waitFor(() => server.service.model('held').queueDepth.queued === 0, 'it leaves the queue');
    await finishAll();
    assert.equal((await running).status, 200);
    await settle();
    assert.equal(runs(), before + 1, 'the abandoned request never ran');
  });

  test('gRPC: a cancelled queued call never runs; a deadline answers DEADLINE_EXCEEDED', async () => {
    const before = runs();
    const running = grpc.call('ModelInfer', GRPC_INFER);
    await waitFor(() => runs() === before + 1, 'the first call runs');
    const cancel = grpc.abandon('ModelInfer', GRPC_INFER);
    await waitFor(() => server.service.model('held').queueDepth.queued === 1, 'the second call is queued');
    cancel();
    await waitFor(() => server.service.model('held').queueDepth.queued === 0, 'it leaves the queue');
    const late = await grpc.fail('ModelInfer', GRPC_INFER, 100);
    assert.equal(status[late.code], 'DEADLINE_EXCEEDED');
    // The server's clock for the deadline starts when the call reaches it, a moment after the client's.
    await waitFor(
      () => server.service.model('held').queueDepth.queued === 0,
      'the late call leaves the queue',
    );
    await finishAll();
    await running;
    assert.equal(runs(), before + 1, 'neither the cancelled nor the late call ran');
  });

  test('a full model answers 503 before the body is read: the headers alone get the answer', async () => {
    const before = runs();
    const fill = [infer(), infer(), infer(), infer(), infer()];
    await waitFor(
      () => runs() === before + 1 && server.service.model('held').queueDepth.queued === 4,
      'queue full',
    );
    const socket = net.connect(server.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // A megabyte announced, not one byte of it sent.
    socket.write(
      'POST /v2/models/held/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n',
    );
    await waitFor(() => received.includes('\r\n\r\n{'), 'an answer without the body');
    socket.destroy();
    assert.match(received, /^HTTP\/1\.1 503 /);
    assert.match(received, /\r\nretry-after: 1\r\n/i);
    assert.match(received, /"error":"the model's queue is full \(4 requests waiting\); retry later"/);
    await finishAll();
    for (const response of await Promise.all(fill)) assert.equal(response.status, 200);
  });

  test('pipelined requests beyond --max-pipelined-requests get 503 and the connection closes', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const one = `POST /v2/models/held/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`;
    socket.write(one.repeat(12));
    await waitFor(() => held.open >= 1, 'the first ones reach the model');
    for (let i = 0; i < 10; i++) {
      await finishAll();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await closed;
    const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    // The first 8 were taken (5 ran, 3 more than the queue of 4 + 1 running could hold got 503 QUEUE_FULL or
    // ran later); the 9th was refused for the connection, and nothing after it was answered.
    assert.equal(statuses.length, 9, received);
    assert.equal(statuses[8], 503);
    assert.match(received, /more than 8 requests are unanswered on this connection/);
    assert.match(received.slice(received.lastIndexOf('HTTP/1.1 503')), /\r\nconnection: close\r\n/i);
  });

  test("a URL over --max-url-bytes is 414 with Skiff's JSON error", async () => {
    const response = await fetch(`${server.url}/v2/models/${'m'.repeat(9000)}/ready`);
    assert.equal(response.status, 414);
    assert.deepEqual(await response.json(), {
      error: `the URL has ${'/v2/models//ready'.length + 9000} bytes; the limit is 8192 (--max-url-bytes)`,
    });
  });

  test('an output named twice is 400 over REST, before anything runs', async () => {
    const before = runs();
    const response = await fetch(`${server.url}/v2/models/held/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ...(JSON.parse(BODY) as object),
        outputs: Array.from({ length: 20_000 }, () => ({ name: 'x', parameters: { classification: 1000 } })),
      }),
    });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { error: 'output "x" is requested more than once' });
    assert.equal(runs(), before);
  });
});
