// readBody behind a real Fastify server on a real socket: how a body is split, joined, limited and refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isSplitBody, readBody } from './read-body.js';
import { installContentDecoding } from './content-encoding.js';
import { SkiffError } from '../../core/errors.js';

const LIMIT = 1024;
let app: FastifyInstance;
let url: string;

before(async () => {
  app = Fastify({ bodyLimit: LIMIT });
  installContentDecoding(app, LIMIT);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request: FastifyRequest, payload: Readable) => {
    const split = request.headers['x-split'];
    return readBody(request, payload, LIMIT, split === undefined ? undefined : Number(split));
  });
  app.post('/', async (request) => {
    const body = request.body;
    if (isSplitBody(body))
      return {
        header: body.header.toString(),
        binary: [...body.binary],
        ownBuffer: body.binary.byteOffset === 0 && body.binary.byteLength === body.binary.buffer.byteLength,
      };
    return { whole: Buffer.isBuffer(body) ? body.toString() : null };
  });
  app.setErrorHandler((error, _request, reply) => {
    const status = error instanceof SkiffError && error.code === 'SKIFF_BODY_TOO_LARGE' ? 413 : 400;
    return reply.code(status).send({ error: error instanceof Error ? error.message : String(error) });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`;
});

after(() => app.close());

test('split at the header length: the header, and the rest in a buffer of its own', async () => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'x-split': '5' },
    body: Buffer.concat([Buffer.from('{"a":'), Buffer.from([1, 2, 3])]),
  });
  assert.deepEqual(await response.json(), { header: '{"a":', binary: [1, 2, 3], ownBuffer: true });
});

test('no split asked, or a split at 0 or past the end: one Buffer', async () => {
  for (const split of [undefined, '0', '3', '99']) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...(split === undefined ? {} : { 'x-split': split }) },
      body: 'abc',
    });
    assert.deepEqual(await response.json(), { whole: 'abc' }, `split ${split}`);
  }
});

test('a chunked body (no Content-Length) is read whole and split the same way', async () => {
  const chunks = [Buffer.from('{"h"'), Buffer.from([9, 8]), Buffer.from([7])];
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'x-split': '4' },
    body: new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(next);
      },
    }),
    duplex: 'half',
  });
  assert.deepEqual(await response.json(), { header: '{"h"', binary: [9, 8, 7], ownBuffer: true });
});

test('a gzip body is split at the header length of what it inflates to', async () => {
  const plain = Buffer.concat([Buffer.from('{"z":1}'), Buffer.from([5, 6])]);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip', 'x-split': '7' },
    body: zlib.gzipSync(plain),
  });
  assert.deepEqual(await response.json(), { header: '{"z":1}', binary: [5, 6], ownBuffer: true });
});

test('a Content-Length over the limit is refused before the body is sent', async () => {
  const port = Number(new URL(url).port);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      // Headers only: the 413 must come without waiting for the 1 MB the client claims to send.
      socket.write(
        `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${1 << 20}\r\n\r\n`,
      );
    });
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error('no answer within 5 s: the server waited for the body'));
    });
  });
  assert.match(answer, /^HTTP\/1\.1 413 /);
});

test('bytes past the limit without a Content-Length are refused (413)', async () => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: new ReadableStream({
      start(controller) {
        controller.enqueue(Buffer.alloc(LIMIT + 1, 65));
        controller.close();
      },
    }),
    duplex: 'half',
  });
  assert.equal(response.status, 413);
  await response.body?.cancel();
});
