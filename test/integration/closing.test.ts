// A request that arrives while the server closes (pipelined, or on a kept-alive connection that was busy when
// the listener closed) gets Skiff's 503 with Retry-After and Connection: close, before anything runs: the
// answer a load balancer may safely retry elsewhere (docs/operations.md, "Behind a load balancer").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { Held } from '../../src/core/testing/fake-loaded-model.js';
import { colorLogits, fakeColorRuntime } from '../helpers/fake-color-runtime.js';
import { fixtureModel } from '../helpers/paths.js';
import { startTestServer } from '../helpers/test-server.js';

test('a request arriving while the server closes: 503 SKIFF_SHUTTING_DOWN, Retry-After, Connection: close', async () => {
  // The first request stays inside the model until the test finishes it, so the server is closing while it
  // runs however fast or busy this machine is.
  const held = new Held();
  const { runtime } = fakeColorRuntime(held.respond);
  const server = await startTestServer({ model: fixtureModel('slow-color/model.onnx') }, { runtime });
  const image = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#2020d0' } })
    .png()
    .toBuffer();
  const socket = net.connect(server.port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const connected = new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  let closing: Promise<void> | undefined;
  try {
    await connected;
    await write(
      socket,
      Buffer.concat([
        Buffer.from(
          `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${image.length}\r\n\r\n`,
        ),
        image,
      ]),
    );
    await until(() => held.held.length === 1, 'the first request to reach the model');
    closing = server.close();
    // Fastify runs the hook that refuses new requests just before it stops listening: once a new connection
    // is refused, the server is closing.
    await until(refusesConnections(server.port), 'the listener to close');
    // The same connection, while the first request still runs and the listener is closing.
    await write(socket, 'GET /v2 HTTP/1.1\r\nHost: x\r\n\r\n');
    finishAll(held);
    await within(Promise.all([closed, closing]), 'the server to answer both and close the connection');
  } finally {
    // A step that failed must not leave a request held and the server open: the test would hang, not fail.
    finishAll(held);
    socket.destroy();
    await (closing ?? server.close());
  }
  const responses = received.split(/(?=HTTP\/1\.1 )/);
  assert.equal(responses.length, 2, received);
  assert.match(responses[0] ?? '', /^HTTP\/1\.1 200 /);
  const refused = responses[1] ?? '';
  assert.match(refused, /^HTTP\/1\.1 503 /);
  assert.match(refused, /\r\nretry-after: 1\r\n/i);
  assert.match(refused, /\r\nconnection: close\r\n/i);
  assert.match(refused, /\{"error":"the server is shutting down; send the request to another replica"\}$/);
});

function finishAll(held: Held): void {
  for (const [index, { call }] of held.held.entries()) held.finish(index, colorLogits(call));
}

function write(socket: net.Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.write(data, (error) => (error === undefined || error === null ? resolve() : reject(error))),
  );
}

/** Awaits `promise`; the deadline only turns a hang into a failure that names what was awaited. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  const deadline = new AbortController();
  try {
    return await Promise.race([
      promise,
      sleep(30_000, undefined, { signal: deadline.signal }).then(() =>
        assert.fail(`timed out waiting for ${what}`),
      ),
    ]);
  } finally {
    deadline.abort();
  }
}

/** Polls `condition` until it holds; the deadline only turns a hang into a failure that names what was awaited. */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (!(await condition())) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function refusesConnections(port: number): () => Promise<boolean> {
  return () =>
    new Promise((resolve) => {
      const probe = net.connect(port, '127.0.0.1');
      probe.once('connect', () => {
        probe.destroy();
        resolve(false);
      });
      probe.once('error', () => resolve(true));
    });
}
