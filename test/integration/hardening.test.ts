// Limits an SRE relies on: request timeouts (504), slow clients cut off, bearer-token auth on REST and gRPC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import sharp from 'sharp';
import { deferred } from '../../src/core/testing/deferred.js';
import { colorLogits, fakeColorRuntime } from '../helpers/fake-color-runtime.js';
import { fixtureModel } from '../helpers/paths.js';
import { postImage, startTestServer } from '../helpers/test-server.js';
import { inferenceClient } from '../helpers/grpc-client.js';
import { startGrpcServer } from '../../src/adapters/grpc/grpc-server.js';
import { silentLogger } from '../../src/core/logger.js';

const red = (): Promise<Buffer> =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: '#d02020' } })
    .png()
    .toBuffer();

test('a request that cannot finish within --request-timeout-ms gets 504, queued or running, and the server carries on', async () => {
  // The model answers only once the test opens the gate: one request runs and the two behind it wait in the
  // queue for as long as the test wants, however fast or busy this machine is.
  const gate = deferred<undefined>();
  const { model, runtime } = fakeColorRuntime(async (call) => {
    await gate.promise;
    return colorLogits(call);
  });
  const server = await startTestServer(
    { model: fixtureModel('slow-color/model.onnx'), requestTimeoutMs: 120 },
    { runtime },
  );
  // Should the server stop timing requests out, the gate opens anyway: the test then fails on a 200, not by
  // hanging.
  const failSafe = setTimeout(() => gate.resolve(undefined), 10_000);
  try {
    const image = await red();
    const answers = await Promise.all(
      [0, 1, 2].map(() => postImage(`${server.url}/predict`, image, 'r.png', 'image/png')),
    );
    for (const response of answers) {
      assert.equal(response.status, 504);
      const body = (await response.json()) as { error: string };
      assert.match(body.error, /did not finish within 120 ms|waited 120 ms for the model/);
    }
    // One of them timed out while running, the other two while queued behind it.
    assert.equal(model.calls.length, 1);
    assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);
    // The inference that outlived its request ends, its result unwanted; the next request runs in time.
    gate.resolve(undefined);
    const next = await postImage(`${server.url}/predict`, image, 'r.png', 'image/png');
    assert.equal(next.status, 200, await next.text());
    assert.equal(model.calls.length, 2);
  } finally {
    clearTimeout(failSafe);
    gate.resolve(undefined);
    await server.close();
  }
});

test('a client that never finishes its headers is cut off after --headers-timeout-ms', async () => {
  const server = await startTestServer({
    model: fixtureModel('tabular-linear/model.onnx'),
    headersTimeoutMs: 1000,
  });
  try {
    const started = performance.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1', () => {
        socket.write('POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      });
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.on('close', () => resolve(received));
      socket.setTimeout(8000, () => socket.destroy());
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 5000, `the connection stayed open ${elapsed.toFixed(0)} ms`);
    assert.match(answer, /^HTTP\/1\.1 408|^$/);
    assert.equal((await fetch(`${server.url}/v2/health/live`)).status, 200);
  } finally {
    await server.close();
  }
});

/**
 * Writes `head`, then `more` every millisecond for 300 ms without reading, as a client busy uploading does,
 * then reads for 100 ms: what it received. A server that closes outright on an early answer makes this
 * kernel answer the bytes still coming with a reset, and the unread answer is thrown away with it.
 */
async function sendOnWithoutReading(port: number, head: string, more: Buffer): Promise<string> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => undefined);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause();
  socket.write(head);
  const until = performance.now() + 300;
  while (performance.now() < until && !socket.destroyed) {
    socket.write(more);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  socket.resume();
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
  return received;
}

test('an early refusal reaches a client still busy sending, not a connection reset: 413 body, 431 headers', async () => {
  const server = await startTestServer({
    model: fixtureModel('tabular-linear/model.onnx'),
    maxBodyBytes: 1024 * 1024,
  });
  try {
    const upload = await sendOnWithoutReading(
      server.port,
      'POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n',
      Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 'a'), Buffer.from('\r\n')]),
    );
    assert.match(upload, /^HTTP\/1\.1 413 /);
    assert.match(upload, /"error":"the request body is larger than the limit \(--max-body-bytes\)"/);

    const headers = await sendOnWithoutReading(
      server.port,
      `GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'h'.repeat(20_000)}`,
      Buffer.alloc(0x10000, 'h'),
    );
    assert.match(headers, /^HTTP\/1\.1 431 /);
    assert.match(headers, /"error":"the request headers are larger than the server accepts/);
    assert.equal((await fetch(`${server.url}/v2/health/live`)).status, 200);
  } finally {
    await server.close();
  }
});

test('--auth-token: health is open, everything else needs the bearer token, on REST and gRPC', async () => {
  const token = 's3cret-token-of-32-characters!!';
  const server = await startTestServer({
    model: fixtureModel('tabular-linear/model.onnx'),
    authToken: token,
  });
  const grpc = await startGrpcServer(server.service, {
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    maxMessageBytes: 1 << 20,
    authToken: token,
  });
  const body = JSON.stringify({ X: [1, 1, 1, 1] });
  const post = (headers: Record<string, string>): Promise<Response> =>
    fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  try {
    assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);
    assert.equal((await fetch(`${server.url}/v2/health/live`)).status, 200);
    const none = await post({});
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.match(((await none.json()) as { error: string }).error, /needs "Authorization: Bearer <token>"/);
    const wrong = await post({ authorization: 'Bearer nope' });
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as { error: string }).error, /not valid/);
    assert.equal((await fetch(`${server.url}/v2`)).status, 401);
    const right = await post({ authorization: `Bearer ${token}` });
    assert.equal(right.status, 200);
    assert.deepEqual(await right.json(), { score: 10.5 });

    const anonymous = inferenceClient(grpc.port);
    const trusted = inferenceClient(grpc.port, token);
    try {
      assert.deepEqual(await anonymous.call('ServerLive', {}), { live: true });
      const refused = await anonymous.fail('ServerMetadata', {});
      assert.equal(refused.code, 16);
      assert.match(refused.details, /authorization: Bearer <token>/);
      assert.equal((await trusted.call('ServerMetadata', {})).name, 'skiff');
    } finally {
      anonymous.close();
      trusted.close();
    }
  } finally {
    await grpc.close();
    await server.close();
  }
});

test('x-request-id: a sane one is echoed, anything else is replaced by a fresh id', async () => {
  const server = await startTestServer({ model: fixtureModel('tabular-linear/model.onnx') });
  try {
    const given = await fetch(`${server.url}/v2/health/live`, { headers: { 'x-request-id': 'trace-42.a' } });
    assert.equal(given.headers.get('x-request-id'), 'trace-42.a');
    const hostile = await fetch(`${server.url}/v2/health/live`, {
      headers: { 'x-request-id': 'a b<script>' },
    });
    assert.match(hostile.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const none = await fetch(`${server.url}/nope`);
    assert.match(none.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  } finally {
    await server.close();
  }
});

test('fuzzing the live server: random bodies on every POST route get a documented client error (or 501 for a route the model cannot serve), never 500, and it keeps serving', async () => {
  const { default: fc } = await import('fast-check');
  const server = await startTestServer({ model: fixtureModel('tabular-linear/model.onnx') });
  const routes = [
    '/predict',
    '/v2/models/tabular-linear/infer',
    '/v1/models/tabular-linear:predict',
    '/api/v1.0/predictions',
    '/v2/repository/index',
  ];
  const types = [
    'application/json',
    'application/octet-stream',
    'image/png',
    'multipart/form-data; boundary=x',
    'text/plain',
  ];
  try {
    const samples = fc.sample(
      fc.record({
        route: fc.constantFrom(...routes),
        type: fc.constantFrom(...types),
        body: fc.oneof(
          fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
          fc.string({ maxLength: 300 }),
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        ),
      }),
      { numRuns: 400, seed: 7 },
    );
    const statuses = new Map<number, number>();
    for (const { route, type, body } of samples) {
      const response = await fetch(`${server.url}${route}`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      assert.ok(
        [400, 404, 405, 413, 415, 501].includes(response.status),
        `${route} ${type} ${JSON.stringify(String(body).slice(0, 80))} → ${response.status} ${await response.text()}`,
      );
      await response.arrayBuffer().catch(() => undefined);
    }
    assert.ok((statuses.get(400) ?? 0) > 100, JSON.stringify([...statuses]));
    assert.deepEqual(
      await (
        await fetch(`${server.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"X":[1,1,1,1]}',
        })
      ).json(),
      { score: 10.5 },
    );
  } finally {
    await server.close();
  }
});
