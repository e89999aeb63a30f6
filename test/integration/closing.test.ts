// A request that arrives while the server closes (pipelined, or on a kept-alive connection that was busy when
// the listener closed) gets Skiff's 503 with Retry-After and Connection: close, before anything runs: the
// answer a load balancer may safely retry elsewhere (docs/operations.md, "Behind a load balancer").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import sharp from 'sharp';
import { fixtureModel } from '../helpers/paths.js';
import { startTestServer } from '../helpers/test-server.js';

test('a request arriving while the server closes: 503 SKIFF_SHUTTING_DOWN, Retry-After, Connection: close', async () => {
  // slow-color takes roughly 250 ms per inference: long enough to close the server while it runs.
  const server = await startTestServer({ model: fixtureModel('slow-color/model.onnx') });
  const image = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#2020d0' } })
    .png()
    .toBuffer();
  const socket = net.connect(server.port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  socket.write(
    Buffer.concat([
      Buffer.from(
        `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${image.length}\r\n\r\n`,
      ),
      image,
    ]),
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  const closing = server.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  // The same connection, while the first request still runs and the listener is closing.
  socket.write('GET /v2 HTTP/1.1\r\nHost: x\r\n\r\n');
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
