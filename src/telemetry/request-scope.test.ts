import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InferenceReport } from '../core/inference-observer.js';
import { deferred, settle } from '../core/testing/deferred.js';
import { RequestRecord, inRequest, requestIdFrom, requestObserver } from './request-scope.js';
import type { RequestSpan } from './request-tracer.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A RequestSpan that keeps the reports handed to it. */
function recordingSpan(): RequestSpan & { readonly reports: InferenceReport[] } {
  const reports: InferenceReport[] = [];
  return {
    reports,
    setAttributes: () => undefined,
    inference: (report) => {
      reports.push(report);
    },
    end: () => undefined,
  };
}

/** What the scheduler asks for on submit: the current request, in the caller's async context. */
function currentRequest(): unknown {
  return requestObserver.requestContext?.();
}

function report(overrides: Partial<InferenceReport> = {}): InferenceReport {
  return {
    model: 'resnet',
    version: '2',
    outcome: 'success',
    queueSeconds: 0.0123456,
    computeSeconds: 0.0031249,
    batchSize: 1,
    executionBatchSize: 4,
    ...overrides,
  };
}

test('requestIdFrom keeps a short, plain caller id and replaces anything else with a fresh UUID', () => {
  for (const id of ['abc', 'A-b_c.d:e', 'x'.repeat(128), '0af76519-16cd-43dd-8448-eb211c80319c']) {
    assert.equal(requestIdFrom(id), id);
  }
  const refused: unknown[] = [
    '',
    'x'.repeat(129),
    'has space',
    'forged\n{"level":"error"}',
    'quote"',
    'ünïcode',
    undefined,
    null,
    42,
    ['abc'],
    Buffer.from('abc'),
  ];
  for (const given of refused) assert.match(requestIdFrom(given), UUID, String(given));
  assert.notEqual(requestIdFrom(undefined), requestIdFrom(undefined));
});

test('a record names only the model fields it knows; the fallback model stands in until a report arrives', () => {
  const record = new RequestRecord('r-1', recordingSpan());
  assert.equal(record.id, 'r-1');
  assert.deepEqual(record.modelFields(), {});
  assert.deepEqual(record.modelFields('from-route'), { model: 'from-route' });
  record.version = '7';
  assert.deepEqual(record.modelFields(), { version: '7' });
});

test('elapsedMs counts milliseconds since the record was made, to 0.1 ms', async () => {
  const before = performance.now();
  const record = new RequestRecord('r-1', recordingSpan());
  await sleep(25);
  const elapsed = record.elapsedMs();
  const bound = performance.now() - before;
  assert.ok(elapsed >= 20 && elapsed <= bound + 0.1, `${elapsed} ms, at most ${bound}`);
  assert.equal(Number(elapsed.toFixed(1)), elapsed);
});

test('inRequest makes its record the current request across awaits, keeps concurrent requests apart, and returns what it runs', async () => {
  assert.equal(currentRequest(), undefined);
  const a = new RequestRecord('a', recordingSpan());
  const b = new RequestRecord('b', recordingSpan());
  const gateA = deferred<undefined>();
  const gateB = deferred<undefined>();
  const seen: string[] = [];
  const handle = (record: RequestRecord, gate: Promise<undefined>): Promise<void> =>
    inRequest(record, async () => {
      assert.equal(currentRequest(), record);
      await gate;
      seen.push(`${record.id} sees ${(currentRequest() as RequestRecord).id}`);
    });
  const both = Promise.all([handle(a, gateA.promise), handle(b, gateB.promise)]);
  // Resumed in the opposite order from the one they started in.
  gateB.resolve(undefined);
  await settle();
  gateA.resolve(undefined);
  await both;
  assert.deepEqual(seen, ['b sees b', 'a sees a']);
  assert.equal(currentRequest(), undefined);
  assert.equal(
    inRequest(a, () => 42),
    42,
  );
});

test("a report fills in the record captured when its request was submitted, even when another request's callback delivers it", () => {
  const spanA = recordingSpan();
  const spanB = recordingSpan();
  const a = new RequestRecord('a', spanA);
  const b = new RequestRecord('b', spanB);
  const contextA = inRequest(a, () => currentRequest());
  inRequest(b, () => currentRequest());
  const batched = report({ context: contextA });
  inRequest(b, () => {
    requestObserver.inferenceDone(batched);
  });
  assert.deepEqual(a.modelFields('from-route'), {
    model: 'resnet',
    version: '2',
    queueMs: 12.3,
    computeMs: 3.1,
    batchSize: 4,
  });
  assert.deepEqual(spanA.reports, [batched]);
  assert.deepEqual(b.modelFields(), {});
  assert.deepEqual(spanB.reports, []);
});

test("a report without a request record (no context, or another observer's) is left alone", () => {
  const foreign = { id: 'not a record', span: recordingSpan() };
  requestObserver.inferenceDone(report());
  requestObserver.inferenceDone(report({ context: foreign }));
  assert.deepEqual(Object.keys(foreign), ['id', 'span']);
  assert.deepEqual(foreign.span.reports, []);
});
