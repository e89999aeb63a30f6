import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InferenceService } from '../../../core/inference-service.js';
import { SkiffError } from '../../../core/errors.js';
import type { MetricsHistory } from './metrics-history.js';
import type { SampleImages } from './sample-images.js';
import type { UiAsset, UiAssets } from './ui-assets.js';
import { UI_ASSETS_PREFIX } from './ui-assets.js';

export interface UiRouteOptions {
  readonly service: InferenceService;
  readonly assets: UiAssets;
  readonly samples: SampleImages;
  /** Undefined when the server has no metrics: the server view then says so. */
  readonly history: MetricsHistory | undefined;
}

/**
 * Only what the page loads from this origin: no inline script, no external anything. `connect-src 'self'`
 * also stops the page's own code from ever reaching another host.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths the page itself loads; `requireBearer` lets them through so a browser can open the page. */
export function isPublicUiPath(path: string): boolean {
  return path === '/' || path.startsWith(UI_ASSETS_PREFIX);
}

/**
 * The web page (`/`), its files (`/ui/assets/*`) and the JSON it reads (`/ui/api/*`). The page and its files
 * are public code; the API answers with the server's data and, like every other route, needs the token.
 */
export function registerUiRoutes(app: FastifyInstance, options: UiRouteOptions): void {
  const { assets, samples, service, history } = options;
  app.get('/', async (request, reply) => sendAsset(request, reply, assets.page));
  app.get<{ Params: { '*': string } }>(`${UI_ASSETS_PREFIX}*`, async (request, reply) => {
    const file = assets.files.get(request.params['*']);
    if (file === undefined)
      throw new SkiffError('SKIFF_ROUTE_NOT_FOUND', `no page asset "${request.params['*'].slice(0, 100)}"`);
    return sendAsset(request, reply, file);
  });

  app.get('/ui/api/models', async (_request, reply) => {
    const models = service.list().map((m) => ({
      name: m.name,
      version: m.version,
      state: m.state,
      // The readiness reason is the one the API already shows: no server paths.
      reason: service.modelReadiness(m.name, m.version).reason,
      takesImages: m.classifier.ok,
    }));
    return reply.header('cache-control', 'no-store').send({ server: service.serverMetadata(), models });
  });

  app.get<{ Querystring: { since?: string } }>('/ui/api/history', async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    if (history === undefined) return reply.send({ intervalMs: 0, samples: [] });
    const sinceText = request.query.since;
    if (sinceText !== undefined && !/^\d{1,16}$/.test(sinceText))
      throw new SkiffError(
        'SKIFF_BAD_PARAMETER',
        `since must be milliseconds since the epoch, got "${sinceText.slice(0, 20)}"`,
      );
    const kept = history.samples(sinceText === undefined ? undefined : Number(sinceText));
    return reply.send({ intervalMs: history.intervalMs, samples: kept, now: await history.sampleNow() });
  });

  app.get('/ui/api/samples', async (_request, reply) =>
    reply.header('cache-control', 'no-cache').send({ samples: await samples.list() }),
  );
  app.get<{ Params: { name: string } }>('/ui/api/samples/:name', async (request, reply) => {
    const sample = await samples.read(request.params.name);
    return reply
      .type(sample.type)
      .header('cache-control', 'private, max-age=300')
      .header('x-content-type-options', 'nosniff')
      .send(sample.bytes);
  });
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, file: UiAsset): FastifyReply {
  void reply
    .header('etag', file.etag)
    // Revalidate every time: a 304 costs a round trip, a stale script after an upgrade costs a broken page.
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
  if (file.type.startsWith('text/html'))
    void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.type(file.type).send(file.body);
}
