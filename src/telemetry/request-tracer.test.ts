import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_TRACER } from './request-tracer.js';

/** Every specifier `entry` (a compiled file) imports statically, side-effect imports included, following relative ones. */
function staticImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/^\s*(?:import|export)\s(?:[^'"]*?from\s*)?['"]([^'"]+)['"]/gm)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('.')) visit(path.resolve(path.dirname(file), specifier));
      else seen.add(specifier);
    }
  };
  visit(entry);
  return seen;
}

test('tracing off: every request gets the same span, which does nothing, and shutdown resolves', async () => {
  const span = NO_TRACER.startRequest(
    'POST /predict',
    { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    { 'http.request.method': 'POST' },
  );
  assert.equal(span.setAttributes({ 'http.response.status_code': 500 }), undefined);
  assert.equal(
    span.inference({
      model: 'm',
      version: '1',
      outcome: 'failure',
      queueSeconds: 0.001,
      computeSeconds: 0.002,
      batchSize: 1,
      executionBatchSize: 1,
    }),
    undefined,
  );
  assert.equal(span.end('failed'), undefined);
  assert.equal(span.end(), undefined);
  // Nothing is allocated per request when tracing is off.
  assert.equal(NO_TRACER.startRequest('GET /v2', {}, {}), span);
  assert.equal(await NO_TRACER.shutdown(), undefined);
});

test('what the adapters import for tracing loads no OpenTelemetry module (only otel-tracer does, on demand)', () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const file of ['request-tracer.js', 'request-scope.js']) {
    const loaded = [...staticImports(path.join(here, file))];
    assert.deepEqual(
      loaded.filter((m) => m.startsWith('@opentelemetry/') || m.endsWith('otel-tracer.js')),
      [],
      file,
    );
  }
  // The walk does see imports: request-scope's own, and the SDK where it is imported.
  assert.ok(staticImports(path.join(here, 'request-scope.js')).has('node:async_hooks'));
  assert.ok(staticImports(path.join(here, 'otel-tracer.js')).has('@opentelemetry/sdk-trace'));
});
