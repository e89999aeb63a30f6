// STYLE.md: build/deploy commands never load the ONNX addon. Walks the static imports of each image and Kubernetes
// command and fails if one reaches src/server.ts, a runtime, or onnxruntime-node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/paths.js';

// bench too: the load generator loads ONNX Runtime only for --model-file, by a dynamic import.
const COMMANDS = [
  'build',
  'push',
  'run-image',
  'deploy',
  'status',
  'logs',
  'port-forward',
  'delete',
  'bench',
];
const FORBIDDEN = [/src\/server\.ts$/, /src\/runtimes\//, /^onnxruntime-node$/, /^sharp$/];

function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  // Static `import ... from '...'` and `export ... from '...'`; dynamic import() is deliberately not followed.
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)';/gms)].map((m) => m[1] ?? '');
}

function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() ?? '';
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.endsWith('.ts')) continue;
    for (const specifier of staticImports(file)) {
      if (specifier.startsWith('.'))
        queue.push(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')));
      else seen.add(specifier);
    }
  }
  return seen;
}

for (const command of COMMANDS) {
  test(`skiff ${command} never imports the server, a runtime or a native addon`, () => {
    const files = reachable(path.join(repoRoot(), 'src', 'cli', 'commands', `${command}.ts`));
    assert.ok(files.size > 3);
    for (const file of files) {
      const relative = path.isAbsolute(file) ? path.relative(repoRoot(), file) : file;
      for (const pattern of FORBIDDEN) assert.doesNotMatch(relative, pattern);
    }
  });
}

// Tracing is off by default and costs start-up time when on: the OpenTelemetry SDK is imported only by
// src/telemetry/otel-tracer.ts, which server.ts loads with import() when tracing is switched on. pino is
// loaded by `serve` alone, with import(), so the other commands do not pay for it either.
test('no command statically imports pino or the OpenTelemetry SDK; the server only reaches the tracing API', () => {
  const files = reachable(path.join(repoRoot(), 'src', 'cli', 'main.ts'));
  const server = reachable(path.join(repoRoot(), 'src', 'server.ts'));
  assert.ok(files.has('zod') && server.has('fastify'), 'the walk follows package imports');
  assert.equal(files.has('pino'), false);
  for (const file of [...files, ...server]) {
    const relative = path.isAbsolute(file) ? path.relative(repoRoot(), file) : file;
    assert.doesNotMatch(relative, /^@opentelemetry\/(sdk-|exporter-|core|resources)|otel-tracer\.ts$/);
  }
});

test('the load generator (src/loadgen) imports no server, adapter, runtime or native addon', () => {
  const dir = path.join(repoRoot(), 'src', 'loadgen');
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .flatMap((name) => [...reachable(path.join(dir, name))]);
  assert.ok(files.length > 5);
  for (const file of files) {
    const relative = path.isAbsolute(file) ? path.relative(repoRoot(), file) : file;
    for (const pattern of [...FORBIDDEN, /src\/adapters\//]) assert.doesNotMatch(relative, pattern);
  }
});
