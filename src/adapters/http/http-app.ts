import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { InferenceService } from '../../core/inference-service.js';
import type { DecodePool } from '../decode/decode-pool.js';
import type { Logger } from '../../core/logger.js';
import type { RequestTracer } from '../../telemetry/request-tracer.js';
import { SkiffError } from '../../core/errors.js';
import { NO_TRACER } from '../../telemetry/request-tracer.js';
import { requestIdFrom } from '../../telemetry/request-scope.js';
import { registerPredictRoute } from './predict-route.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerOipRoutes } from './oip-routes.js';
import { registerV1Routes } from './v1-routes.js';
import { registerSeldonRoutes } from './seldon-routes.js';
import { registerOpenApiRoutes } from './openapi.js';
import { answerClientError } from './client-error.js';
import { installContentDecoding } from './content-encoding.js';
import { bufferedBody } from './read-body.js';
import { installRequestHooks } from './request-hooks.js';
import { ConnectionBudget } from './connection-budget.js';
import { lingerOnUnreadBodies } from './lingering-close.js';
import { RouteMethods } from './route-methods.js';
import { pathOf, sendError } from './error-reply.js';
import { isPublicUiPath, registerUiRoutes } from './ui/ui-routes.js';
import { loadUiAssets } from './ui/ui-assets.js';
import { SampleImages } from './ui/sample-images.js';
import { HISTORY_CAPACITY, HISTORY_INTERVAL_MS, MetricsHistory } from './ui/metrics-history.js';
import { SAMPLED_METRICS } from './ui/logic/metrics-sample.js';
import type { PromSample } from './ui/logic/prometheus-text.js';

export interface HttpAppOptions {
  readonly service: InferenceService;
  /** Where request bodies become tensors: inline when small, in a worker thread when large. */
  readonly decoder: DecodePool;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  readonly defaultTopK: number;
  /** Slow-client limits: headers, then the whole request, must arrive within these. */
  readonly headersTimeoutMs?: number | undefined;
  readonly bodyTimeoutMs?: number | undefined;
  /** Largest request head (line and headers); 431 beyond. */
  readonly maxHeaderBytes?: number | undefined;
  /** The server's bound on one request, queue included (0: none); a client may ask for less. */
  readonly requestTimeoutMs?: number | undefined;
  /** Longest URL accepted (414 beyond). */
  readonly maxUrlBytes?: number | undefined;
  /** Requests one connection may have unanswered (HTTP/1.1 pipelining); 503 beyond. */
  readonly maxPipelinedRequests?: number | undefined;
  /** When set, every route but health and /metrics needs `Authorization: Bearer <token>`. */
  readonly authToken?: string | undefined;
  /** One log line per request (default true). */
  readonly accessLog?: boolean | undefined;
  /** A server span per request (default: none). */
  readonly tracer?: RequestTracer | undefined;
  /** Prometheus exposition behind GET /metrics, and a per-request observation. */
  readonly metrics?: HttpMetrics | undefined;
  /** The web page at `/` (docs/ui.md); undefined turns it off, and `/` is then a 404. */
  readonly ui?: { readonly samplesDir?: string | undefined } | undefined;
}

export interface HttpMetrics {
  httpRequest(route: string, method: string, status: number, seconds: number): void;
  text(): Promise<string>;
  /** The named metrics' samples alone, for the web page's history: cheaper than text() and parsing it. */
  samplesOf(names: readonly string[]): Promise<readonly PromSample[]>;
  readonly contentType: string;
}

/**
 * Builds the HTTP adapter: the request hooks (request-hooks.ts), body parsers with their limits, the routes
 * of each protocol, and the one error handler (error-reply.ts).
 */
export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  // Read before anything opens: a missing build or a bad --ui-samples fails start-up with nothing to close.
  const uiAssets = options.ui === undefined ? undefined : loadUiAssets();
  const samples =
    options.ui === undefined ? undefined : SampleImages.open(options.ui.samplesDir, options.maxBodyBytes);
  const connections = new ConnectionBudget(options.maxPipelinedRequests ?? 8);
  const app = Fastify({
    logger: false,
    bodyLimit: options.maxBodyBytes,
    // Fastify would answer 404 for a wrong method; we want 405 with Allow, so routes are matched by hand.
    // Requests arriving while the server closes are refused by our own hook (Skiff's JSON, Retry-After).
    return503OnClosing: false,
    // On close, idle keep-alive connections are dropped at once; busy ones finish their request.
    forceCloseConnections: 'idle',
    // Fastify's own server, but each request counted against its connection's pipelining budget first, and
    // an answer given before the body ended followed by a lingering close, so that the client can read it.
    serverFactory: (handler) => {
      const server = connections.server(handler, {
        http: {
          headersTimeout: options.headersTimeoutMs ?? 10_000,
          connectionsCheckingInterval: 1000,
          maxHeaderSize: options.maxHeaderBytes ?? 16_384,
        },
        keepAliveTimeoutMs: 65_000,
        requestTimeoutMs: options.bodyTimeoutMs ?? 30_000,
      });
      lingerOnUnreadBodies(server);
      return server;
    },
    // The router's own guard would answer 414 before any hook: the URL limit (request-hooks.ts) does it in
    // Skiff's words instead, and Node's header limit bounds the request line anyway.
    routerOptions: { maxParamLength: 1_048_576 },
    // Slow clients and malformed framing get a Skiff-style JSON answer too, not Fastify's own shape.
    clientErrorHandler: answerClientError,
    // A path that is not valid percent-encoding is answered like any other error, not in Fastify's shape.
    frameworkErrors: (error, request, reply) => {
      sendError(request, reply, error, options.logger);
    },
    // A caller's x-request-id (if sane) follows the request through logs, traces and errors; else a fresh one.
    genReqId: (request) => requestIdFrom(request.headers['x-request-id']),
  });
  const metrics = options.metrics;
  installRequestHooks(app, {
    service: options.service,
    logger: options.logger,
    accessLog: options.accessLog !== false,
    tracer: options.tracer ?? NO_TRACER,
    metrics,
    requestTimeoutMs: options.requestTimeoutMs ?? 0,
    maxUrlBytes: options.maxUrlBytes ?? 8192,
    connections,
    authToken: options.authToken,
    isPublicPath: (path) =>
      path.startsWith('/v2/health/') ||
      path === '/metrics' ||
      (uiAssets !== undefined && isPublicUiPath(path)),
  });
  installContentDecoding(app, options.maxBodyBytes);
  registerBodyParsers(app);

  const methods = new RouteMethods();
  methods.watch(app);
  app.setNotFoundHandler((request, reply) => {
    const allowed = methods.allowed(request.url);
    if (allowed.length > 0) {
      void reply
        .header('allow', allowed.join(', '))
        .code(405)
        .send({
          error: `method ${request.method} is not allowed on ${pathOf(request.url)}; use ${allowed.join(' or ')}`,
        });
      return;
    }
    sendError(
      request,
      reply,
      new SkiffError(
        'SKIFF_ROUTE_NOT_FOUND',
        `no route ${request.method} ${pathOf(request.url)}; see docs/api.md for the routes`,
      ),
      options.logger,
    );
  });
  app.setErrorHandler((error, request, reply) => {
    sendError(request, reply, error, options.logger);
  });

  // Routes come after the handlers: scopes registered later inherit them.
  await registerPredictRoute(app, options);
  registerHealthRoutes(app, options.service);
  await registerOipRoutes(app, options.service, options.decoder);
  registerV1Routes(app, options);
  registerSeldonRoutes(app, options);
  if (metrics !== undefined) {
    app.get('/metrics', async (_request, reply) =>
      reply.type(metrics.contentType).send(await metrics.text()),
    );
  }
  if (uiAssets !== undefined && samples !== undefined) {
    const history =
      metrics === undefined
        ? undefined
        : new MetricsHistory({
            scrape: () => metrics.samplesOf(SAMPLED_METRICS),
            intervalMs: HISTORY_INTERVAL_MS,
            capacity: HISTORY_CAPACITY,
          });
    history?.start();
    app.addHook('onClose', async () => history?.stop());
    registerUiRoutes(app, { service: options.service, assets: uiAssets, samples, history });
  }
  registerOpenApiRoutes(app, methods.documented, options.service.serverMetadata().version);
  return app;
}

/**
 * Bodies arrive as one Buffer, counted whole against Fastify's bodyLimit (--max-body-bytes) by readBody. JSON
 * is not parsed here: the routes hand its bytes to the decoders (decode/), which check its nesting first and
 * parse large bodies off the event loop.
 */
function registerBodyParsers(app: FastifyInstance): void {
  app.addContentTypeParser(/^(image\/|application\/octet-stream)/, bufferedBody);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', bufferedBody);
}
