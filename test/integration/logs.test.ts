// The server log as an operator sees it: pino JSON lines on stderr, one access line per request with the
// request id the client sent (or one made for it, echoed back), and internal causes only in the log.
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedModel } from '../../src/core/model/runtime.js';
import type { Tensor } from '../../src/core/tensor/tensor.js';
import type { RunningServer } from '../../src/server.js';
import type { ServingCli } from '../helpers/run-cli.js';
import type { InferenceClient } from '../helpers/grpc-client.js';
import { FakeLoadedModel, echo } from '../../src/core/testing/fake-loaded-model.js';
import { FakeRuntime } from '../../src/core/testing/fake-runtime.js';
import { createPinoLogger } from '../../src/log/pino-logger.js';
import { startTestServer } from '../helpers/test-server.js';
import { startCli } from '../helpers/run-cli.js';
import { trackChild } from '../helpers/child-processes.js';
import { inferenceClient } from '../helpers/grpc-client.js';
import { cliPath, fixtureModel } from '../helpers/paths.js';

type Line = Record<string, unknown>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function jsonLines(text: string): Line[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line);
}

/** The access line of a request id; lines are written after the answer, so wait a little for it. */
async function accessLine(read: () => string, requestId: string): Promise<Line> {
  for (let i = 0; i < 100; i++) {
    const line = jsonLines(read()).find((l) => l.msg === 'request' && l.requestId === requestId);
    if (line !== undefined) return line;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no access line for ${requestId} in:\n${read()}`);
}

const tinyInput = JSON.stringify({
  inputs: [{ name: 'input', shape: [1, 3, 8, 8], datatype: 'FP32', data: new Array<number>(192).fill(0.5) }],
});

let cli: ServingCli;
let grpcPort: number;

before(async () => {
  cli = await startCli(['--model', fixtureModel('tiny-color'), '--host', '127.0.0.1', '--port', '0']);
  const listening = jsonLines(cli.stderr()).find((l) => l.msg === 'gRPC listening');
  grpcPort = Number(/:(\d+)$/.exec(String(listening?.address))?.[1]);
});

after(async () => {
  assert.equal(await cli.stop(), 0);
});

test('every stderr line of a serving CLI is one JSON object with level, ISO time and msg', () => {
  const lines = jsonLines(cli.stderr());
  assert.ok(lines.length >= 3);
  for (const line of lines) {
    assert.ok(['debug', 'info', 'warn', 'error'].includes(String(line.level)), JSON.stringify(line));
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(typeof line.msg, 'string');
    assert.equal(line.pid, undefined);
  }
});

test("HTTP: the caller's x-request-id is echoed and names the access line, with route, model, times and bytes", async () => {
  const response = await fetch(`${cli.url}/v2/models/tiny-color/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'client-id-42' },
    body: tinyInput,
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-request-id'), 'client-id-42');
  const body = await response.text();
  const line = await accessLine(cli.stderr, 'client-id-42');
  assert.equal(line.level, 'info');
  assert.equal(line.method, 'POST');
  assert.equal(line.path, '/v2/models/tiny-color/infer');
  assert.equal(line.route, '/v2/models/:model/infer');
  assert.equal(line.status, 200);
  assert.equal(typeof line.ms, 'number');
  assert.equal(line.requestBytes, Buffer.byteLength(tinyInput));
  assert.equal(line.responseBytes, Buffer.byteLength(body));
  assert.equal(line.model, 'tiny-color');
  assert.equal(line.version, '1');
  assert.equal(line.batchSize, 1);
  assert.equal(typeof line.queueMs, 'number');
  assert.ok(typeof line.computeMs === 'number' && line.computeMs >= 0);
});

test('HTTP: without an id, or with one that is not plain and short, a fresh UUID is made and echoed', async () => {
  for (const given of [undefined, 'has spaces in it', 'x'.repeat(129), 'quote"and\nnewline']) {
    const response = await fetch(`${cli.url}/v2/models/tiny-color`, {
      headers: given === undefined || given.includes('\n') ? {} : { 'x-request-id': given },
    });
    assert.equal(response.status, 200);
    const id = response.headers.get('x-request-id') ?? '';
    assert.match(id, UUID);
    const line = await accessLine(cli.stderr, id);
    assert.equal(line.route, '/v2/models/:model');
    assert.equal(line.model, 'tiny-color');
  }
});

test('HTTP: a request that fails before reaching a model still gets its line (404, with the model it named)', async () => {
  const response = await fetch(`${cli.url}/v2/models/nope/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'missing-model' },
    body: tinyInput,
  });
  assert.equal(response.status, 404);
  const line = await accessLine(cli.stderr, 'missing-model');
  assert.equal(line.status, 404);
  assert.equal(line.model, 'nope');
  assert.equal(line.version, undefined);
});

test('gRPC: metadata x-request-id is sent back in the response headers and names the access line', async () => {
  const client: InferenceClient = inferenceClient(grpcPort, undefined, { 'x-request-id': 'grpc-call-7' });
  const anonymous: InferenceClient = inferenceClient(grpcPort);
  try {
    const { response, headers } = await client.callWithTrailers('ModelInfer', {
      model_name: 'tiny-color',
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [1, 3, 8, 8],
          contents: { fp32_contents: new Array<number>(192).fill(0.5) },
        },
      ],
    });
    assert.equal(response.model_name, 'tiny-color');
    assert.equal(headers?.get('x-request-id')[0], 'grpc-call-7');
    const line = await accessLine(cli.stderr, 'grpc-call-7');
    assert.equal(line.protocol, 'grpc');
    assert.equal(line.method, 'ModelInfer');
    assert.equal(line.grpcStatus, 'OK');
    assert.equal(typeof line.ms, 'number');
    assert.equal(line.model, 'tiny-color');
    assert.equal(line.version, '1');
    assert.equal(line.batchSize, 1);

    const made = await anonymous.callWithTrailers('ServerMetadata', {});
    const id = String(made.headers?.get('x-request-id')[0]);
    assert.match(id, UUID);
    assert.equal((await accessLine(cli.stderr, id)).method, 'ServerMetadata');

    const error = await client.fail('ModelMetadata', { name: 'nope' });
    assert.equal(error.code, 5);
    let lines: Line[] = [];
    for (let i = 0; i < 100 && lines.length < 2; i++) {
      lines = jsonLines(cli.stderr()).filter((l) => l.msg === 'request' && l.requestId === 'grpc-call-7');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const failed = lines[1];
    assert.equal(failed?.grpcStatus, 'NOT_FOUND');
    assert.equal(failed.model, 'nope');
  } finally {
    client.close();
    anonymous.close();
  }
});

test('an internal error: the log has the cause and the request id, the response only the id', async () => {
  const written: string[] = [];
  const info = [{ name: 'x', type: 'FP32' as const, shape: [-1, 2] }];
  let calls = 0;
  // Warm-up succeeds; every real request then fails deep inside, as a broken runtime would.
  const model = new FakeLoadedModel(info, info, (call) =>
    calls++ === 0
      ? echo(call)
      : Promise.reject(new Error('session run failed', { cause: new Error('CUDA error 700 at 0xdead') })),
  );
  const server: RunningServer = await startTestServer(
    { model: fixtureModel('tabular-linear/model.onnx'), name: 'fragile' },
    {
      runtime: new FakeRuntime(() => Promise.resolve(model as LoadedModel)),
      logger: createPinoLogger({ write: (text) => written.push(text), format: 'json', level: 'info' }),
    },
  );
  try {
    const input: Tensor = { type: 'FP32', shape: [1, 2], data: Float32Array.of(1, 2) };
    const response = await fetch(`${server.url}/v2/models/fragile/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'doomed-1' },
      body: JSON.stringify({
        inputs: [{ name: 'x', shape: input.shape, datatype: 'FP32', data: [1, 2] }],
      }),
    });
    assert.equal(response.status, 500);
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), { error: 'internal error (request doomed-1); see the server log' });
    assert.doesNotMatch(text, /CUDA|session run failed|\bat /);
    const read = (): string => written.join('');
    const access = await accessLine(read, 'doomed-1');
    assert.equal(access.status, 500);
    const failure = jsonLines(read()).find((l) => l.msg === 'request failed');
    assert.equal(failure?.level, 'error');
    assert.equal(failure.requestId, 'doomed-1');
    assert.match(String(failure.error), /session run failed\n\s+at /);
    assert.equal(failure.cause, 'CUDA error 700 at 0xdead');
  } finally {
    await server.close();
  }
});

test('--log-format pretty writes text lines for people, even into a pipe', async () => {
  const child = spawn(
    process.execPath,
    [cliPath(), 'serve', '--model', fixtureModel('tiny-color'), '--host', '127.0.0.1', '--port', '0'],
    {
      env: {
        ...process.env,
        SKIFF_LOG_FORMAT: 'pretty',
        SKIFF_GRPC_PORT: '-1',
        SKIFF_DRAIN_DELAY_MS: '0',
        SKIFF_GRAPH_CACHE: 'false',
      },
    },
  );
  const tracked = trackChild(child);
  let stderr = '';
  let code: number | null;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready:\n${stderr}`)), 30_000);
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes(' ready in ')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    // Also when it never got ready: a server left running would keep this test process alive.
    code = await tracked.stop('SIGTERM');
  }
  assert.equal(code, 0);
  const first = stderr.split('\n')[0] ?? '';
  assert.match(
    first,
    /^\d\d:\d\d:\d\d\.\d{3} INFO {2}listening; loading the model url=http:\/\/127\.0\.0\.1:\d+ /,
  );
  assert.doesNotMatch(stderr, /^\{/m);
});

test('a client that hangs up while its request runs still gets one access line, status 499', async () => {
  const written: string[] = [];
  const server = await startTestServer(
    { model: fixtureModel('slow-color') },
    { logger: createPinoLogger({ write: (text) => written.push(text), format: 'json', level: 'info' }) },
  );
  try {
    const abort = new AbortController();
    const request = fetch(`${server.url}/v2/models/slow-color/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'gave-up' },
      body: JSON.stringify({
        inputs: [
          {
            name: 'input',
            shape: [1, 3, 224, 224],
            datatype: 'FP32',
            data: new Array<number>(150_528).fill(0),
          },
        ],
      }),
      signal: abort.signal,
    });
    // The body is in (the request reached the model) well before the ~150-400 ms inference ends.
    for (let i = 0; i < 200 && server.service.list()[0]?.queueDepth.inFlight === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    abort.abort();
    await assert.rejects(request);
    const read = (): string => written.join('');
    const line = await accessLine(read, 'gave-up');
    assert.equal(line.status, 499);
    assert.equal(line.aborted, true);
    // The inference still finishes; its late answer adds no second line.
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(jsonLines(read()).filter((l) => l.requestId === 'gave-up').length, 1);
  } finally {
    await server.close();
  }
});
