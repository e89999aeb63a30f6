// lingerOnUnreadBodies on a real node:http server and a raw socket that keeps uploading after the answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeWithoutReading, lingerOnUnreadBodies } from './lingering-close.js';
import type { LingerLimits } from './lingering-close.js';

const REFUSE_AFTER_BYTES = 2 ** 20;
const CHUNK = chunked(Buffer.alloc(2 ** 16, 'a'));

function chunked(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
}

/** Answers 413 with `Connection: close` once a body passes 1 MiB, as Fastify does for a body limit. */
async function refusingServer(limits: LingerLimits | 'none'): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    let received = 0;
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received <= REFUSE_AFTER_BYTES) return;
      request.removeListener('data', onData);
      response.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      response.end('{"error":"too large"}');
    };
    request.on('data', onData);
    if (request.method === 'GET') {
      response.writeHead(200, { connection: 'close', 'content-length': '2' });
      response.end('ok');
    }
  });
  if (limits !== 'none') lingerOnUnreadBodies(server, limits);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

interface Upload {
  readonly socket: net.Socket;
  readonly received: () => string;
  readonly closed: Promise<number>;
}

/** Connects and starts a chunked POST; `closed` resolves with the ms from connect to the socket's close. */
async function connect(server: http.Server): Promise<Upload> {
  // Half-open allowed: a client that goes on uploading after the server's FIN, as an uploading one does.
  const socket = net.connect({
    port: (server.address() as AddressInfo).port,
    host: '127.0.0.1',
    allowHalfOpen: true,
  });
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  const started = performance.now();
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(performance.now() - started)),
  );
  return { socket, received: () => received.toString('latin1'), closed };
}

/** Writes body chunks for `ms`, not reading meanwhile (as a client busy uploading does) unless `reading`. */
async function uploadWithoutReading(upload: Upload, ms: number, reading = false): Promise<void> {
  if (!reading) upload.socket.pause();
  upload.socket.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
  const until = performance.now() + ms;
  while (performance.now() < until && !upload.socket.destroyed) {
    upload.socket.write(CHUNK);
    await sleep(1);
  }
  upload.socket.resume();
}

test('a client still uploading when the 413 comes can read it afterwards', async () => {
  const server = await refusingServer({ ms: 2000, bytes: 64 * 2 ** 20 });
  try {
    const upload = await connect(server);
    await uploadWithoutReading(upload, 300);
    await sleep(100);
    assert.match(upload.received(), /^HTTP\/1\.1 413 /);
    assert.match(upload.received(), /\{"error":"too large"\}/);
    upload.socket.end();
    await upload.closed;
  } finally {
    server.close();
  }
});

test('without the lingering close the same client loses the answer (why this exists)', async () => {
  const server = await refusingServer('none');
  try {
    const upload = await connect(server);
    await uploadWithoutReading(upload, 300);
    await sleep(100);
    assert.equal(upload.received(), '');
    upload.socket.destroy();
  } finally {
    server.close();
  }
});

// A client that never stops sending: the time bound ends it (the client reads, so it sees the 413 first), or,
// sending fast without reading, the byte bound does long before the time would.
for (const { bound, limits, reading, sendMs, closedWithin } of [
  {
    bound: 'time',
    limits: { ms: 300, bytes: 2 ** 30 },
    reading: true,
    sendMs: 3000,
    closedWithin: [250, 2000],
  },
  {
    bound: 'bytes',
    limits: { ms: 60_000, bytes: 4 * 2 ** 20 },
    reading: false,
    sendMs: 5000,
    closedWithin: [0, 4000],
  },
] as const) {
  test(`the lingering ends after its ${bound} when the client never stops sending`, async () => {
    const server = await refusingServer(limits);
    try {
      const upload = await connect(server);
      const sending = uploadWithoutReading(upload, sendMs, reading);
      const closedAfterMs = await upload.closed;
      await sending;
      const [least, most] = closedWithin;
      assert.ok(
        closedAfterMs >= least && closedAfterMs < most,
        `closed after ${closedAfterMs.toFixed(0)} ms`,
      );
      if (reading) assert.match(upload.received(), /^HTTP\/1\.1 413 /);
    } finally {
      server.close();
    }
  });
}

test('the lingering ends at the client FIN, and answers to whole requests close as before', async () => {
  const server = await refusingServer({ ms: 60_000, bytes: 2 ** 30 });
  try {
    const upload = await connect(server);
    await uploadWithoutReading(upload, 100);
    await sleep(50);
    upload.socket.end();
    assert.ok((await upload.closed) < 5000);

    const get = await connect(server);
    get.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const started = performance.now();
    await new Promise((resolve) => get.socket.once('end', resolve));
    const endedAfterMs = performance.now() - started;
    assert.match(get.received(), /^HTTP\/1\.1 200 [\s\S]*\r\n\r\nok$/);
    assert.ok(endedAfterMs < 1000, `the server's FIN after ${endedAfterMs.toFixed(0)} ms`);
    get.socket.end();
    await get.closed;
  } finally {
    server.close();
  }
});

test('closeWithoutReading sends FIN at once and drops the connection after its time', async () => {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.write('answer');
    closeWithoutReading(socket, 300);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const socket = net.connect({
      port: (server.address() as AddressInfo).port,
      host: '127.0.0.1',
      allowHalfOpen: true,
    });
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const started = performance.now();
    await new Promise((resolve) => socket.once('end', resolve));
    const finMs = performance.now() - started;
    // The client neither closes nor stops sending: only the server's timer ends the connection.
    const sending = setInterval(() => socket.write('more'), 10);
    await new Promise((resolve) => socket.once('close', resolve));
    clearInterval(sending);
    const closedMs = performance.now() - started;
    assert.equal(received, 'answer');
    assert.ok(finMs < 200, `FIN after ${finMs.toFixed(0)} ms`);
    assert.ok(closedMs >= 250 && closedMs < 2000, `closed after ${closedMs.toFixed(0)} ms`);
  } finally {
    server.close();
  }
});
