import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTracing } from './tracing-settings.js';

test('off unless an endpoint is given', () => {
  assert.equal(resolveTracing({}, {}), undefined);
  assert.equal(resolveTracing({}, { OTEL_SERVICE_NAME: 'x' }), undefined);
});

test('--otlp-endpoint is a base URL: /v1/traces is added once', () => {
  assert.deepEqual(resolveTracing({ otlpEndpoint: 'http://collector:4318' }, {}), {
    tracesUrl: 'http://collector:4318/v1/traces',
    serviceName: 'skiff',
    source: 'otlpEndpoint',
  });
  assert.equal(
    resolveTracing({ otlpEndpoint: 'http://collector:4318/v1/traces/' }, {})?.tracesUrl,
    'http://collector:4318/v1/traces',
  );
});

test("Skiff's option wins over OTEL_*; the traces endpoint over the base; the base gets /v1/traces", () => {
  const env = {
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318',
  };
  assert.equal(
    resolveTracing({ otlpEndpoint: 'http://own:4318' }, env)?.tracesUrl,
    'http://own:4318/v1/traces',
  );
  assert.equal(resolveTracing({}, env)?.tracesUrl, 'http://traces:4318/custom');
  assert.equal(
    resolveTracing({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318/' })?.tracesUrl,
    'http://base:4318/v1/traces',
  );
});

test('service name: option, then OTEL_SERVICE_NAME, then skiff', () => {
  const on = { otlpEndpoint: 'http://c:4318' };
  assert.equal(resolveTracing({ ...on, otlpServiceName: 'a' }, { OTEL_SERVICE_NAME: 'b' })?.serviceName, 'a');
  assert.equal(resolveTracing(on, { OTEL_SERVICE_NAME: 'b' })?.serviceName, 'b');
  assert.equal(resolveTracing(on, {})?.serviceName, 'skiff');
});

test('OTEL_SDK_DISABLED=true turns tracing off whatever is set', () => {
  assert.equal(resolveTracing({ otlpEndpoint: 'http://c:4318' }, { OTEL_SDK_DISABLED: 'true' }), undefined);
});

test('a malformed or non-HTTP endpoint from the environment is refused, naming the variable', () => {
  assert.throws(() => resolveTracing({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), {
    code: 'SKIFF_CONFIG_INVALID',
    message: /OTEL_EXPORTER_OTLP_ENDPOINT/,
  });
  assert.throws(() => resolveTracing({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://c:4317' }), {
    code: 'SKIFF_CONFIG_INVALID',
    message: /http/,
  });
});
