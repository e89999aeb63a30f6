import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { ServerUnaryCall, ServiceDefinition, sendUnaryData } from '@grpc/grpc-js';
import { LeanGrpcCaller, grpcFrame } from './lean-grpc-caller.js';

const PATH = '/test.Probe/Call';
const bytes = (buffer: Buffer): Buffer => buffer;
const definition: ServiceDefinition = {
  Call: {
    path: PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  },
};

/**
 * A grpc-js server whose answer the message's first byte decides: 0 answers at once, 1 fails NOT_FOUND with
 * non-ASCII words, 2 never answers, 3 answers after 50 ms. Every call must carry `authorization: Bearer t`.
 */
async function startServer(port = 0, maxStreams = 100): Promise<{ server: Server; port: number }> {
  const server = new Server({ 'grpc.max_concurrent_streams': maxStreams });
  server.addService(definition, {
    Call: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      if (call.metadata.get('authorization')[0] !== 'Bearer t') {
        callback({ code: status.UNAUTHENTICATED, details: 'no token' });
        return;
      }
      const kind = call.request[0];
      if (kind === 1) callback({ code: status.NOT_FOUND, details: 'no model named "café" here' });
      else if (kind === 3) setTimeout(() => callback(null, Buffer.from('late')), 50);
      else if (kind !== 2) callback(null, Buffer.alloc(call.request.length));
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, p) =>
      error === null ? resolve(p) : reject(error),
    ),
  );
  return { server, port: bound };
}

const caller = (port: number, timeoutMs = 5000, headers = { authorization: 'Bearer t' }): LeanGrpcCaller =>
  new LeanGrpcCaller(`http://127.0.0.1:${port}`, { headers, timeoutMs, flowWindowBytes: 1 << 20 });

describe('LeanGrpcCaller against a grpc-js server', () => {
  let server: Server;
  let port: number;
  before(async () => ({ server, port } = await startServer()));
  after(() => server.forceShutdown());

  test('a call answered OK is ok, a 600 KB message included; its headers reach the server as metadata', async () => {
    const client = caller(port);
    try {
      assert.deepEqual(await client.call(PATH, grpcFrame(Buffer.from([0, 1, 2]))), {
        ok: true,
        status: 'OK',
      });
      const large = Buffer.alloc(600_000);
      assert.deepEqual(await client.call(PATH, grpcFrame(large)), { ok: true, status: 'OK' });
      const anonymous = caller(port, 5000, { authorization: 'Bearer wrong' });
      assert.deepEqual(await anonymous.call(PATH, grpcFrame(Buffer.from([0]))), {
        ok: false,
        status: 'UNAUTHENTICATED',
        message: 'no token',
      });
      anonymous.close();
    } finally {
      client.close();
    }
  });

  test("a failed call keeps its status name and the server's words, percent-decoded", async () => {
    const client = caller(port);
    assert.deepEqual(await client.call(PATH, grpcFrame(Buffer.from([1]))), {
      ok: false,
      status: 'NOT_FOUND',
      message: 'no model named "café" here',
    });
    client.close();
  });

  test('an unanswered call ends as DEADLINE_EXCEEDED at its deadline, and the connection still serves', async () => {
    const client = caller(port, 300);
    const started = performance.now();
    const outcome = await client.call(PATH, grpcFrame(Buffer.from([2])));
    assert.equal(outcome.ok, false);
    assert.equal(outcome.status, 'DEADLINE_EXCEEDED');
    assert.ok(performance.now() - started < 3000, 'the call waited far past its deadline');
    assert.deepEqual(await client.call(PATH, grpcFrame(Buffer.from([0]))), { ok: true, status: 'OK' });
    client.close();
  });

  test("more calls at once than the server's concurrent streams all complete", async () => {
    const narrow = await startServer(0, 2);
    const client = caller(narrow.port);
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, () => client.call(PATH, grpcFrame(Buffer.from([3])))),
      );
      assert.deepEqual(
        outcomes.map((o) => o.status),
        Array.from({ length: 8 }, () => 'OK'),
      );
    } finally {
      client.close();
      narrow.server.forceShutdown();
    }
  });
});

test('with no server a call ends as no answer (status 0); a server that comes back is reached again', async () => {
  const first = await startServer();
  const client = caller(first.port);
  try {
    assert.equal((await client.call(PATH, grpcFrame(Buffer.from([0])))).ok, true);
    first.server.forceShutdown();
    const lost = await client.call(PATH, grpcFrame(Buffer.from([0])));
    assert.equal(lost.ok, false);
    assert.equal(lost.status, 0);
    assert.ok((lost.message ?? '').length > 0);
    const again = await startServer(first.port);
    try {
      assert.deepEqual(await client.call(PATH, grpcFrame(Buffer.from([0]))), { ok: true, status: 'OK' });
    } finally {
      again.server.forceShutdown();
    }
  } finally {
    client.close();
  }
});
