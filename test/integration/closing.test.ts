// A request that arrives while the server closes (pipelined, or on a kept-alive connection that was busy when
// the listener closed) gets Skiff's 503 with Retry-After and Connection: close, before anything runs: the
// answer a load balancer may safely retry elsewhere (docs/operations.md, "Behind a load balancer").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setImmediate as nextCheck, setTimeout as sleep } from 'node:timers/promises';
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
  await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
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
  const closing = server.close();
  // Fastify runs the hook that refuses new requests just before it stops listening: once a new connection
  // is refused, the server is closing.
  await until(refusesConnections(server.port), 'the listener to close');
  // The same connection, while the first request still runs and the listener is closing.
  await write(socket, 'GET /v2 HTTP/1.1\r\nHost: x\r\n\r\n');
  // The server reads that request in this same process, in the first I/O poll after the write (loopback
  // bytes are there at once), and refuses it without waiting on anything. A timer callback and then the
  // check phase after it guarantee such a poll in between, whatever the load; only then may the first
  // request finish, or the connection would close before the server has seen the second.
  await sleep(1);
  await nextCheck();
  const [first] = held.held;
  assert.ok(first !== undefined);
  held.finish(0, colorLogits(first.call));
  await Promise.all([closed, closing]);
  const responses = received.split(/(?=HTTP\/1\.1 )/);
  assert.equal(responses.length, 2, received);
  assert.match(responses[0] ?? '', /^HTTP\/1\.1 200 /);
  const refused = responses[1] ?? '';
  assert.match(refused, /^HTTP\/1\.1 503 /);
  assert.match(refused, /\r\nretry-after: 1\r\n/i);
  assert.match(refused, /\r\nconnection: close\r\n/i);
  assert.match(refused, /\{"error":"the server is shutting down; send the request to another replica"\}$/);
});

function write(socket: net.Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.write(data, (error) => (error === undefined || error === null ? resolve() : reject(error))),
  );
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
