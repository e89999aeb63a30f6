import type { FastifyInstance } from 'fastify';

interface Operation {
  readonly summary: string;
  readonly request?: 'image-or-json' | 'json' | 'infer';
  readonly errors?: readonly number[];
}

/** One line per REST operation; a test checks every registered route has an entry. */
export const OPERATIONS: Readonly<Record<string, Operation>> = {
  'POST /predict': {
    summary:
      'Classify an image (multipart field "image", or a raw image/* body); or score rows with {"X": [...]}',
    request: 'image-or-json',
    errors: [400, 404, 413, 415, 501, 503],
  },
  'GET /v2/health/live': { summary: 'Liveness: 200 {"live": true} while the server runs' },
  'GET /v2/health/ready': {
    summary:
      'Readiness: 200 {"ready": true} once every model is loaded and warmed up (see --strict-readiness), else 400 with the reason',
  },
  'GET /v2': { summary: 'Server metadata: name, version, extensions' },
  'GET /v2/': { summary: 'Server metadata (the same, for clients that join paths with a slash)' },
  'GET /v2/models': { summary: 'KServe V2 list of models: {"models": [name, ...]}' },
  'GET /v2/models/stats': { summary: "Triton's statistics extension: every version of every model" },
  'GET /v2/models/{model}': { summary: 'Model metadata: versions, platform, inputs, outputs', errors: [404] },
  'GET /v2/models/{model}/versions/{version}': { summary: 'Metadata of one model version', errors: [404] },
  'GET /v2/models/{model}/stats': { summary: 'Statistics of every version of a model', errors: [404] },
  'GET /v2/models/{model}/versions/{version}/stats': {
    summary: 'Statistics of one model version',
    errors: [404],
  },
  'GET /v2/models/{model}/config': {
    summary: "Triton's model configuration extension: the configuration Skiff applies",
    errors: [404, 503],
  },
  'GET /v2/models/{model}/versions/{version}/config': {
    summary: 'Configuration of one model version',
    errors: [404, 503],
  },
  'GET /v2/models/{model}/ready': {
    summary: 'Model readiness: 200 {"name", "ready": true}, 400 with the reason otherwise',
    errors: [404],
  },
  'GET /v2/models/{model}/versions/{version}/ready': {
    summary: 'Readiness of one model version',
    errors: [404],
  },
  'POST /v2/models/{model}/infer': {
    summary:
      'Open Inference Protocol inference (JSON, binary tensor data with Inference-Header-Content-Length, or a raw binary body with it 0; gzip or deflate Content-Encoding)',
    request: 'infer',
    errors: [400, 404, 503],
  },
  'POST /v2/models/{model}/versions/{version}/infer': {
    summary: 'Inference on one model version',
    request: 'infer',
    errors: [400, 404, 503],
  },
  'POST /v2/repository/index': {
    summary: 'Every model in the repository with its state (needs --repository-api)',
    errors: [403, 501],
  },
  'POST /v2/repository/models/{model}/load': {
    summary:
      'Load or reload a repository model (needs --repository-api); config and file overrides are refused (501)',
    errors: [400, 403, 404, 501],
  },
  'POST /v2/repository/models/{model}/unload': {
    summary: 'Unload a repository model (needs --repository-api)',
    errors: [403, 404, 501],
  },
  'GET /v1/models': { summary: 'KServe V1 list of models: {"models": [name, ...]}', errors: [] },
  'GET /v1/models/{model}': {
    summary: 'KServe V1 model status: {"name", "ready"}; 503 when not ready',
    errors: [404, 503],
  },
  'POST /v1/models/{model}:predict': {
    summary:
      'KServe V1 / TF-Serving predict: {"instances": [...]} or {"inputs": ...} → {"predictions": [...]}',
    request: 'json',
    errors: [400, 404, 503],
  },
  'GET /api/v1.0/metadata': { summary: 'Seldon v1 model metadata' },
  'POST /api/v1.0/predictions': {
    summary: 'Seldon v1 prediction: data.ndarray, data.tensor, or binData (an image)',
    request: 'json',
    errors: [400, 404, 503],
  },
  'GET /openapi.json': { summary: 'This document' },
  'GET /metrics': { summary: 'Prometheus metrics (docs/metrics.md)' },
  'GET /docs': { summary: 'A page listing these routes' },
  'GET /': { summary: 'The web page: try a model, watch the server (docs/ui.md; --no-ui turns it off)' },
  'GET /ui/assets/*': { summary: "The web page's scripts and stylesheet", errors: [404] },
  'GET /ui/api/models': {
    summary: 'For the web page: every model version, its state and whether it takes images',
  },
  'GET /ui/api/history': {
    summary:
      "For the web page: the server's own metrics every 5 s for 15 minutes (?since=<ms> for newer only)",
    errors: [400],
  },
  'GET /ui/api/samples': { summary: 'For the web page: the sample photos of --ui-samples' },
  'GET /ui/api/samples/{name}': { summary: 'One sample photo', errors: [404] },
};

/** Fastify's `:param` (and `::`, a literal colon) in OpenAPI's `{param}` spelling. */
export function openApiPath(url: string): string {
  return url
    .split('::')
    .map((part) => part.replace(/:([A-Za-z_]\w*)(\([^)]*\))?/g, '{$1}'))
    .join(':');
}

export function buildOpenApi(
  routes: readonly { method: string; url: string }[],
  version: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const error = {
    description: 'Error',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  for (const route of routes) {
    const key = openApiPath(route.url);
    const operation = OPERATIONS[`${route.method} ${key}`];
    const parameters = [...key.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const responses: Record<string, unknown> = { '200': { description: 'OK' } };
    for (const status of operation?.errors ?? []) responses[String(status)] = error;
    const body =
      operation?.request === 'image-or-json'
        ? {
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  properties: { image: { type: 'string', format: 'binary' } },
                  required: ['image'],
                },
              },
              'image/*': { schema: { type: 'string', format: 'binary' } },
              'application/json': {
                schema: { type: 'object', properties: { X: { type: 'array' } }, required: ['X'] },
              },
            },
          }
        : operation?.request === 'infer'
          ? {
              content: {
                'application/json': { schema: { type: 'object' } },
                'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
              },
            }
          : operation?.request === 'json'
            ? { content: { 'application/json': { schema: { type: 'object' } } } }
            : undefined;
    paths[key] = {
      ...paths[key],
      [route.method.toLowerCase()]: {
        summary: operation?.summary ?? '',
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(body === undefined ? {} : { requestBody: { required: true, ...body } }),
        responses,
      },
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Skiff model server', version },
    paths,
    components: {
      schemas: { Error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] } },
    },
  };
}

/** `/openapi.json` and `/docs` (a static page, nothing fetched from the internet). */
export function registerOpenApiRoutes(
  app: FastifyInstance,
  routes: readonly { method: string; url: string }[],
  version: string,
): void {
  // Both documents are built once, on the first request (every route is registered by then): a client that
  // asks for them in a loop costs a write, not a rebuild.
  let document: string | undefined;
  let page: string | undefined;
  app.get('/openapi.json', async (_request, reply) => {
    document ??= JSON.stringify(buildOpenApi(routes, version));
    return reply.type('application/json; charset=utf-8').send(document);
  });
  app.get('/docs', async (_request, reply) => {
    page ??= docsPage(routes, version);
    return reply.type('text/html; charset=utf-8').send(page);
  });
}

function docsPage(routes: readonly { method: string; url: string }[], version: string): string {
  const rows = routes
    .map((r) => ({ method: r.method, path: openApiPath(r.url) }))
    .map(
      (r) =>
        `<tr><td><code>${r.method}</code></td><td><code>${escape(r.path)}</code></td><td>${escape(OPERATIONS[`${r.method} ${r.path}`]?.summary ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Skiff API</title><style>body{font-family:system-ui,sans-serif;margin:2rem;color:#111}table{border-collapse:collapse}td,th{border-bottom:1px solid #ccc;padding:.4rem .8rem;text-align:left;vertical-align:top}</style></head><body><h1>Skiff ${escape(version)} REST API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3).</p><table><thead><tr><th>Method</th><th>Path</th><th>What</th></tr></thead><tbody>\n${rows}\n</tbody></table></body></html>`;
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}
