// OpenTelemetry tracing against a real OTLP/HTTP receiver on 127.0.0.1: the spans Skiff exports for REST
// and gRPC requests, their parents (the caller's traceparent → server → queue, compute) and attributes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../../src/server.js';
import { startTestServer } from '../helpers/test-server.js';
import { startCli } from '../helpers/run-cli.js';
import { inferenceClient } from '../helpers/grpc-client.js';
import { fixtureModel, repoRoot } from '../helpers/paths.js';
import type { ExportedSpan } from '../helpers/otlp-collector.js';
import { OtlpCollector, attr } from '../helpers/otlp-collector.js';

const SERVER = 2;
const INTERNAL = 1;
const nanos = (value: string | number): bigint => BigInt(value);

const tinyInput = JSON.stringify({
  inputs: [{ name: 'input', shape: [1, 3, 8, 8], datatype: 'FP32', data: new Array<number>(192).fill(0.5) }],
});

const collector = new OtlpCollector();
let collectorUrl: string;
before(async () => {
  collectorUrl = await collector.start();
});
after(async () => {
  await collector.close();
});

test('REST and gRPC requests export server spans in the caller trace, with queue and compute children', async () => {
  const server: RunningServer = await startTestServer(
    { model: fixtureModel('tiny-color'), grpcPort: 0 },
    { tracing: { tracesUrl: `${collectorUrl}/v1/traces`, serviceName: 'skiff-under-test', source: 'test' } },
  );
  const restTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const restParent = '00f067aa0ba902b7';
  const grpcTrace = '0af7651916cd43dd8448eb211c80319c';
  const grpcParent = 'b7ad6b7169203331';
  const before = collector.requests.length;
  try {
    const response = await fetch(`${server.url}/v2/models/tiny-color/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${restTrace}-${restParent}-01`,
        'x-request-id': 'traced-rest',
      },
      body: tinyInput,
    });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);

    const client = inferenceClient(server.grpcPort ?? -1, undefined, {
      traceparent: `00-${grpcTrace}-${grpcParent}-01`,
    });
    try {
      await client.call('ModelInfer', {
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
      await client.call('ServerLive', {});
    } finally {
      client.close();
    }
  } finally {
    // Closing flushes the batch of spans still held in memory.
    await server.close();
  }
  assert.ok(collector.requests.length > before, 'nothing was exported');
  assert.match(collector.contentTypes[0] ?? '', /^application\/json/);
  assert.equal(collector.resourceAttribute('service.name'), 'skiff-under-test');
  const spans = collector.spans();

  const rest = spans.filter((s) => s.traceId === restTrace);
  const restServer = rest.find((s) => s.kind === SERVER);
  assert.equal(restServer?.name, 'POST /v2/models/:model/infer');
  assert.equal(restServer.parentSpanId, restParent);
  assert.equal(attr(restServer, 'http.request.method'), 'POST');
  assert.equal(attr(restServer, 'http.route'), '/v2/models/:model/infer');
  assert.equal(attr(restServer, 'http.response.status_code'), 200);
  assert.equal(attr(restServer, 'skiff.model.name'), 'tiny-color');
  assert.equal(attr(restServer, 'skiff.model.version'), '1');
  assert.equal(attr(restServer, 'skiff.protocol'), 'open-inference-v2');
  assert.equal(attr(restServer, 'skiff.request_id'), 'traced-rest');
  assertChildren(rest, restServer);

  const grpc = spans.filter((s) => s.traceId === grpcTrace);
  const grpcServer = grpc.find((s) => s.kind === SERVER);
  assert.equal(grpcServer?.name, 'inference.GRPCInferenceService/ModelInfer');
  assert.equal(grpcServer.parentSpanId, grpcParent);
  assert.equal(attr(grpcServer, 'rpc.system'), 'grpc');
  assert.equal(attr(grpcServer, 'rpc.method'), 'ModelInfer');
  assert.equal(attr(grpcServer, 'rpc.grpc.status_code'), 0);
  assert.equal(attr(grpcServer, 'skiff.model.name'), 'tiny-color');
  assertChildren(grpc, grpcServer);

  // Probes (HTTP health, gRPC ServerLive) are not traced.
  assert.equal(spans.filter((s) => /health|ServerLive/.test(s.name)).length, 0);
  assert.equal(spans.filter((s) => s.traceId !== restTrace && s.traceId !== grpcTrace).length, 0);
});

function assertChildren(trace: ExportedSpan[], server: ExportedSpan): void {
  const queue = trace.find((s) => s.name === 'queue');
  const compute = trace.find((s) => s.name === 'compute');
  assert.equal(trace.length, 3, trace.map((s) => s.name).join(', '));
  for (const child of [queue, compute]) {
    assert.equal(child?.parentSpanId, server.spanId);
    assert.equal(child.kind, INTERNAL);
    assert.equal(attr(child, 'skiff.model.name'), 'tiny-color');
    assert.ok(nanos(child.startTimeUnixNano) >= nanos(server.startTimeUnixNano));
    assert.ok(nanos(child.endTimeUnixNano) <= nanos(server.endTimeUnixNano));
  }
  assert.ok(queue !== undefined && compute !== undefined);
  assert.ok(nanos(queue.endTimeUnixNano) <= nanos(compute.startTimeUnixNano));
  assert.equal(attr(compute, 'skiff.batch.size'), 1);
  assert.equal(attr(compute, 'skiff.batch.execution_size'), 1);
}

test('a failed request marks its server span as an error (5xx), a client error does not', async () => {
  const server = await startTestServer(
    { model: fixtureModel('tiny-color') },
    { tracing: { tracesUrl: `${collectorUrl}/v1/traces`, serviceName: 'skiff', source: 'test' } },
  );
  const badTrace = '11111111111111111111111111111111';
  try {
    const response = await fetch(`${server.url}/v2/models/tiny-color/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${badTrace}-2222222222222222-01` },
      body: '{"inputs": []}',
    });
    assert.equal(response.status, 400);
  } finally {
    await server.close();
  }
  const span = collector.spans().find((s) => s.traceId === badTrace);
  assert.equal(attr(span, 'http.response.status_code'), 400);
  assert.notEqual(span?.status?.code, 2);
});

test('skiff serve with SKIFF_OTLP_ENDPOINT exports, and flushes on SIGTERM', async () => {
  const trace = 'abcdefabcdefabcdefabcdefabcdef01';
  const cli = await startCli(['--model', fixtureModel('tiny-color'), '--host', '127.0.0.1', '--port', '0'], {
    env: { SKIFF_OTLP_ENDPOINT: collectorUrl, SKIFF_OTLP_SERVICE_NAME: 'from-cli' },
  });
  let code: number | null;
  try {
    const response = await fetch(`${cli.url}/v2/models/tiny-color`, {
      headers: { traceparent: `00-${trace}-1234567812345678-01` },
    });
    assert.equal(response.status, 200);
  } finally {
    code = await cli.stop('SIGTERM');
  }
  assert.equal(code, 0);
  const span = collector.spans().find((s) => s.traceId === trace);
  assert.equal(span?.name, 'GET /v2/models/:model');
  assert.equal(span.parentSpanId, '1234567812345678');
  assert.match(cli.stderr(), /"msg":"tracing on"/);
});

test('with tracing off (the default) the OpenTelemetry SDK and exporter are never loaded', () => {
  // A fresh process: this one has loaded the SDK for the tests above.
  const probe = (tracing: string): string[] => {
    const script = `
      import { createRequire } from 'node:module';
      const { startTestServer } = await import(${JSON.stringify(`${repoRoot()}/dist/test/helpers/test-server.js`)});
      const server = await startTestServer({ model: ${JSON.stringify(fixtureModel('tiny-color'))} }, ${tracing});
      await fetch(server.url + '/v2/models/tiny-color');
      await server.close();
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(loaded.filter((f) => /@opentelemetry[\\\\/](sdk-trace|exporter-trace-otlp-http)[\\\\/]/.test(f)).length));
    `;
    // A file, not `node -e`: the inference worker threads inherit the parent's exec arguments.
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'skiff-otel-probe-')), 'probe.mjs');
    writeFileSync(file, script);
    // Its own limit: a synchronous child blocks this process's timers, the test timeout included.
    const run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    return run.stdout.trim().split('\n');
  };
  assert.deepEqual(probe('{}'), ['0']);
  const on = probe(
    `{ tracing: { tracesUrl: '${collectorUrl}/v1/traces', serviceName: 's', source: 'test' } }`,
  );
  assert.ok(Number(on[0]) > 0, 'the probe does see the SDK when tracing is on');
});
