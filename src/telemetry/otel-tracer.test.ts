// The real OpenTelemetry SDK and OTLP/HTTP exporter, sending to a stand-in collector on 127.0.0.1: what is
// checked is what a collector would receive.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { diag } from '@opentelemetry/api';
import type { InferenceReport } from '../core/inference-observer.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import type { ExportedSpan } from '../../test/helpers/otlp-collector.js';
import { OtlpCollector, valueOf } from '../../test/helpers/otlp-collector.js';
import { startOtelTracer } from './otel-tracer.js';
import type { RequestTracer } from './request-tracer.js';

const INTERNAL = 1;
const SERVER = 2;
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

beforeEach(() => {
  // A server starts one tracer; the tests start many, and each would warn that it replaces the last one's logger.
  diag.disable();
});

/** Runs `use` with a tracer exporting to a fresh collector, shuts the tracer down (flushing) and returns the collector. */
async function traced(
  use: (tracer: RequestTracer) => void | Promise<void>,
  options: { status?: number; logger?: Logger } = {},
): Promise<OtlpCollector> {
  const collector = new OtlpCollector(options.status);
  const url = await collector.start();
  try {
    const tracer = startOtelTracer({
      tracesUrl: `${url}/v1/traces`,
      serviceName: 'skiff-test',
      serviceVersion: '1.2.3',
      logger: options.logger ?? silentLogger,
    });
    try {
      await use(tracer);
    } finally {
      await tracer.shutdown();
    }
  } finally {
    await collector.close();
  }
  return collector;
}

function report(overrides: Partial<InferenceReport> = {}): InferenceReport {
  return {
    model: 'resnet',
    version: '2',
    outcome: 'success',
    queueSeconds: 0.004,
    computeSeconds: 0.006,
    batchSize: 1,
    executionBatchSize: 3,
    ...overrides,
  };
}

function attributes(span: ExportedSpan | undefined): Record<string, unknown> {
  return Object.fromEntries((span?.attributes ?? []).map((a) => [a.key, valueOf(a.value)]));
}

function named(spans: readonly ExportedSpan[], name: string): ExportedSpan {
  const span = spans.find((s) => s.name === name);
  assert.ok(span !== undefined, `no span "${name}" among ${spans.map((s) => s.name).join(', ')}`);
  return span;
}

const nanos = (value: string | number): bigint => BigInt(value);
const durationNs = (span: ExportedSpan): bigint =>
  nanos(span.endTimeUnixNano) - nanos(span.startTimeUnixNano);

/** Within 10 µs: times are float milliseconds since the epoch, so nanoseconds are only that exact. */
function assertAbout(actualNs: bigint, expectedNs: number, what: string): void {
  const off = Number(actualNs) - expectedNs;
  assert.ok(Math.abs(off) < 10_000, `${what}: ${actualNs} ns, expected ${expectedNs}`);
}

test("a request with a traceparent is a SERVER span in the caller's trace, with its tracestate, attributes, resource and scope", async () => {
  const collector = await traced((tracer) => {
    const span = tracer.startRequest(
      'POST /v2/models/:model/infer',
      { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=abc' },
      { 'http.request.method': 'POST', 'skiff.request_id': 'r-1' },
    );
    span.setAttributes({ 'http.response.status_code': 200, 'skiff.model.name': 'resnet' });
    span.end();
  });
  assert.match(collector.contentTypes[0] ?? '', /^application\/json/);
  const spans = collector.spans();
  assert.equal(spans.length, 1);
  const span = spans[0];
  assert.equal(span?.name, 'POST /v2/models/:model/infer');
  assert.equal(span.kind, SERVER);
  assert.equal(span.traceId, TRACE);
  assert.equal(span.parentSpanId, PARENT);
  assert.equal(span.traceState, 'vendor=abc');
  assert.deepEqual(attributes(span), {
    'http.request.method': 'POST',
    'skiff.request_id': 'r-1',
    'http.response.status_code': 200,
    'skiff.model.name': 'resnet',
  });
  assert.equal(span.status?.code ?? STATUS_UNSET, STATUS_UNSET);
  assert.equal(span.status?.message, undefined);
  assert.ok(nanos(span.endTimeUnixNano) >= nanos(span.startTimeUnixNano));
  assert.equal(collector.resourceAttribute('service.name'), 'skiff-test');
  assert.equal(collector.resourceAttribute('service.version'), '1.2.3');
  assert.deepEqual(collector.requests[0]?.resourceSpans[0]?.scopeSpans[0]?.scope, {
    name: 'skiff',
    version: '1.2.3',
  });
});

test('without a usable traceparent a request starts a trace of its own', async () => {
  const collector = await traced((tracer) => {
    tracer.startRequest('GET /none', {}, {}).end();
    tracer
      .startRequest('GET /garbage', { traceparent: 'not-a-traceparent', tracestate: 'vendor=abc' }, {})
      .end();
    tracer.startRequest('GET /zero-trace', { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01` }, {}).end();
  });
  const spans = collector.spans();
  assert.deepEqual(spans.map((s) => s.name).sort(), ['GET /garbage', 'GET /none', 'GET /zero-trace']);
  for (const span of spans) {
    assert.equal(span.parentSpanId ?? '', '', span.name);
    assert.equal(span.traceState ?? '', '', span.name);
    assert.match(span.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(span.traceId, '0'.repeat(32));
  }
  assert.equal(new Set(spans.map((s) => s.traceId)).size, 3);
});

test('inference adds queue then compute as INTERNAL children of the server span, timed back from now by the report', async () => {
  const collector = await traced(async (tracer) => {
    const span = tracer.startRequest('POST /predict', { traceparent: `00-${TRACE}-${PARENT}-01` }, {});
    // Longer than the reported 10 ms, so both children fall inside the server span.
    await sleep(30);
    span.inference(
      report({ queueSeconds: 0.004, computeSeconds: 0.006, batchSize: 1, executionBatchSize: 3 }),
    );
    span.end();
  });
  const spans = collector.spans();
  assert.equal(spans.length, 3);
  const server = named(spans, 'POST /predict');
  const queue = named(spans, 'queue');
  const compute = named(spans, 'compute');
  for (const child of [queue, compute]) {
    assert.equal(child.traceId, TRACE);
    assert.equal(child.parentSpanId, server.spanId);
    assert.equal(child.kind, INTERNAL);
    assert.equal(child.status?.code ?? STATUS_UNSET, STATUS_UNSET);
    assert.ok(nanos(child.startTimeUnixNano) >= nanos(server.startTimeUnixNano), child.name);
    assert.ok(nanos(child.endTimeUnixNano) <= nanos(server.endTimeUnixNano), child.name);
  }
  assert.equal(queue.endTimeUnixNano, compute.startTimeUnixNano);
  assertAbout(durationNs(queue), 4_000_000, 'queue');
  assertAbout(durationNs(compute), 6_000_000, 'compute');
  assert.deepEqual(attributes(queue), { 'skiff.model.name': 'resnet', 'skiff.model.version': '2' });
  assert.deepEqual(attributes(compute), {
    'skiff.model.name': 'resnet',
    'skiff.model.version': '2',
    'skiff.batch.size': 1,
    'skiff.batch.execution_size': 3,
  });
});

test('a failed inference marks compute (not queue) as an error; end(error) marks the server span, once', async () => {
  const warnings: string[] = [];
  const logger: Logger = {
    ...silentLogger,
    warn: (message, fields) => warnings.push(`${message} ${String(fields?.message)}`),
  };
  const collector = await traced(
    (tracer) => {
      const span = tracer.startRequest('POST /predict', {}, {});
      span.inference(report({ outcome: 'failure' }));
      span.end('the model failed');
      span.end();
      span.end('a second failure');
    },
    { logger },
  );
  // Ending an ended span is an error to the SDK, which would log it: later calls must not reach it.
  assert.deepEqual(warnings, []);
  const spans = collector.spans();
  assert.equal(spans.filter((s) => s.kind === SERVER).length, 1);
  assert.deepEqual(named(spans, 'POST /predict').status, { code: STATUS_ERROR, message: 'the model failed' });
  assert.equal(named(spans, 'compute').status?.code, STATUS_ERROR);
  assert.equal(named(spans, 'queue').status?.code ?? STATUS_UNSET, STATUS_UNSET);
});

test('a collector refusing the spans: the background export and the shutdown flush warn, and shutdown still resolves', async () => {
  const warnings: { message: string; detail: string }[] = [];
  const logger: Logger = {
    ...silentLogger,
    warn: (message, fields) => warnings.push({ message, detail: String(fields?.message) }),
  };
  const collector = await traced(
    async (tracer) => {
      // More spans than one export batch holds (512 by default): the SDK sends a batch at once, in the background.
      for (let i = 0; i < 600; i++) tracer.startRequest(`GET /${i}`, {}, {}).end();
      const deadline = Date.now() + 10_000;
      while (!warnings.some((w) => w.message === 'tracing') && Date.now() < deadline) await sleep(10);
      assert.ok(
        warnings.some((w) => w.message === 'tracing' && /Bad Request/.test(w.detail)),
        JSON.stringify(warnings),
      );
    },
    { status: 400, logger },
  );
  assert.ok(collector.requests.length >= 2, 'a background export and the shutdown flush');
  assert.ok(
    warnings.some(
      (w) => w.message === 'tracing: spans not exported at shutdown' && w.detail === 'Bad Request',
    ),
    JSON.stringify(warnings),
  );
});
