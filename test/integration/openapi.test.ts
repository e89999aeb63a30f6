import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureModel } from '../helpers/paths.js';
import { startTestServer } from '../helpers/test-server.js';
import { OPERATIONS } from '../../src/adapters/http/openapi.js';

test('GET /openapi.json documents every REST route, and /docs lists them without fetching anything external', async () => {
  const server = await startTestServer({ model: fixtureModel('tabular-linear/model.onnx') });
  try {
    const response = await fetch(`${server.url}/openapi.json`);
    assert.equal(response.status, 200);
    const doc = (await response.json()) as {
      openapi: string;
      info: { version: string };
      paths: Record<string, Record<string, { summary: string }>>;
    };
    assert.equal(doc.openapi, '3.0.3');
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    assert.deepEqual(
      operations.sort(),
      Object.keys(OPERATIONS).sort(),
      'every route has a summary and every summary a route',
    );
    for (const [path, methods] of Object.entries(doc.paths))
      for (const op of Object.values(methods)) assert.notEqual(op.summary, '', path);
    assert.ok(doc.paths['/v1/models/{model}:predict']?.post);
    const page = await fetch(`${server.url}/docs`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /\/v2\/models\/\{model\}\/infer/);
    assert.doesNotMatch(html, /https?:\/\/(?!localhost)/, 'no external resources');
  } finally {
    await server.close();
  }
});
