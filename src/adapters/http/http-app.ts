import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InferenceService } from '../../core/inference-service.js';
import type { Logger } from '../../core/logger.js';
import { SkiffError, isSkiffError } from '../../core/errors.js';
import { HTTP_STATUS } from './http-status.js';
import { PREDICT_USAGE, registerPredictRoute } from './predict-route.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerOipRoutes } from './oip-routes.js';
import { registerV1Routes } from './v1-routes.js';
import { registerSeldonRoutes } from './seldon-routes.js';
import { registerOpenApiRoutes } from './openapi.js';
import { answerClientError } from './client-error.js';
import type { RequestSpan, RequestTracer } from '../../telemetry/request-tracer.js';
import { NO_TRACER } from '../../telemetry/request-tracer.js';
import { RequestRecord, inRequest, requestIdFrom } from '../../telemetry/request-scope.js';
import { isPublicUiPath, registerUiRoutes } from './ui/ui-routes.js';
import { loadUiAssets } from './ui/ui-assets.js';
import { SampleImages } from './ui/sample-images.js';
import { HISTORY_CAPACITY, HISTORY_INTERVAL_MS, MetricsHistory } from './ui/metrics-history.js';

export interface HttpAppOptions {
  readonly service: InferenceService;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  readonly defaultTopK: number;
  /** Slow-client limits: headers, then the whole request, must arrive within these. */
  readonly headersTimeoutMs?: number | undefined;
  readonly bodyTimeoutMs?: number | undefined;
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
  readonly contentType: string;
}

/** Retry-After (seconds) sent with 503s: long enough for a queue to drain, short enough to not lose clients. */
const RETRY_AFTER_SECONDS = 1;

/** Builds the HTTP adapter: routes, body limits, and the single place errors become responses. */
export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  // Read before anything opens: a missing build or a bad --ui-samples fails start-up with nothing to close.
  const uiAssets = options.ui === undefined ? undefined : loadUiAssets();
  const samples =
    options.ui === undefined ? undefined : SampleImages.open(options.ui.samplesDir, options.maxBodyBytes);
  const app = Fastify({
    logger: false,
    bodyLimit: options.maxBodyBytes,
    // Fastify would answer 404 for a wrong method; we want 405 with Allow, so routes are matched by hand.
    // Requests arriving while the server closes are refused by our own hook below (Skiff's JSON, Retry-After).
    return503OnClosing: false,
    // On close, idle keep-alive connections are dropped at once; busy ones finish their request.
    forceCloseConnections: 'idle',
    requestTimeout: options.bodyTimeoutMs ?? 30_000,
    http: { headersTimeout: options.headersTimeoutMs ?? 10_000, connectionsCheckingInterval: 1000 },
    keepAliveTimeout: 65_000,
    // Slow clients and malformed framing get a Skiff-style JSON answer too, not Fastify's own shape.
    clientErrorHandler: answerClientError,
    // A path that is not valid percent-encoding is answered like any other error, not in Fastify's shape.
    frameworkErrors: (error, request, reply) => {
      sendError(request, reply, error, options.logger);
    },
    // A caller's x-request-id (if sane) follows the request through logs, traces and errors; else a fresh one.
    genReqId: (request) => requestIdFrom(request.headers['x-request-id']),
  });
  const tracer = options.tracer ?? NO_TRACER;
  const records = new WeakMap<FastifyRequest, RequestRecord>();
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    const record = new RequestRecord(request.id, startSpan(tracer, request));
    records.set(request, record);
    // A client that hangs up while its request runs gets no 'finish' and so no onResponse (Fastify's
    // onRequestAbort only covers a body cut short): log it as nginx's 499 when the connection closes.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) finish(request, undefined, 499, record.elapsedMs());
    });
  });
  // Once close() has begun, a request that still arrives (on a kept-alive connection that was busy, or
  // pipelined) is refused before anything runs, so a load balancer may safely retry it elsewhere.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) {
      throw new SkiffError(
        'SKIFF_SHUTTING_DOWN',
        'the server is shutting down; send the request to another replica',
      );
    }
  });
  // Time spent in the server, for clients (the web page) that want it apart from the network.
  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`);
    return payload;
  });
  const finish = (
    request: FastifyRequest,
    reply: FastifyReply | undefined,
    status: number,
    ms: number,
  ): void => {
    const record = records.get(request);
    if (record === undefined || record.finished) return;
    record.finished = true;
    const modelFields = record.modelFields(modelParam(request));
    const aborted = reply === undefined;
    if (options.accessLog !== false) {
      options.logger.info('request', {
        requestId: request.id,
        method: request.method,
        path: pathOf(request.url),
        status,
        ms,
        route: request.routeOptions.url,
        requestBytes: byteCount(request.headers['content-length']),
        responseBytes: byteCount(reply?.getHeader('content-length')),
        ...modelFields,
        ...(aborted ? { aborted: true } : {}),
      });
    }
    record.span.setAttributes({
      'http.response.status_code': status,
      ...(typeof modelFields.model === 'string' ? { 'skiff.model.name': modelFields.model } : {}),
      ...(typeof modelFields.version === 'string' ? { 'skiff.model.version': modelFields.version } : {}),
    });
    record.span.end(status >= 500 ? `HTTP ${status}` : aborted ? 'client closed the connection' : undefined);
  };
  app.addHook('onResponse', async (request, reply) => {
    finish(request, reply, reply.statusCode, Math.round(reply.elapsedTime * 10) / 10);
  });
  if (options.authToken !== undefined)
    requireBearer(app, options.authToken, uiAssets === undefined ? () => false : isPublicUiPath);
  const metrics = options.metrics;
  if (metrics !== undefined) {
    app.addHook('onResponse', async (request, reply) => {
      // The route pattern, not the URL: model names stay out of label cardinality, unknown paths fold into one.
      metrics.httpRequest(
        request.routeOptions.url ?? 'unmatched',
        request.method,
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
    });
  }

  app.addContentTypeParser(
    /^(image\/|application\/octet-stream)/,
    { parseAs: 'buffer' },
    (_request, body, done) => {
      done(null, body);
    },
  );

  const routes: RoutePattern[] = [];
  const documented: { method: string; url: string }[] = [];
  app.addHook('onRoute', (route) => {
    // Handlers run as their request, so the model's report (queue and compute times) finds its way back.
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, request, reply) {
      const record = records.get(request);
      return record === undefined
        ? handler.call(this, request, reply)
        : inRequest(record, () => handler.call(this, request, reply));
    };
    routes.push(routePattern(route.url, route.method));
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      if (method !== 'HEAD') documented.push({ method, url: route.url });
    }
  });

  app.setNotFoundHandler((request, reply) => {
    const allowed = allowedMethods(routes, request.url);
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

  app.setErrorHandler((error: FastifyError | SkiffError, request, reply) => {
    sendError(request, reply, error, options.logger);
  });

  // Routes come after the handlers: scopes registered later inherit them.
  await registerPredictRoute(app, options);
  registerHealthRoutes(app, options.service);
  await registerOipRoutes(app, options.service);
  registerV1Routes(app, options.service, options.defaultTopK);
  registerSeldonRoutes(app, options.service, options.defaultTopK);
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
            scrape: () => metrics.text(),
            intervalMs: HISTORY_INTERVAL_MS,
            capacity: HISTORY_CAPACITY,
          });
    history?.start();
    app.addHook('onClose', async () => history?.stop());
    registerUiRoutes(app, { service: options.service, assets: uiAssets, samples, history });
  }
  registerOpenApiRoutes(app, documented, options.service.serverMetadata().version);

  return app;
}

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  logger: Logger,
): void {
  const mapped = toHttpError(
    error,
    request.headers['content-type']?.split(';')[0] ?? '',
    pathOf(request.url),
  );
  if (mapped.status >= 500 && mapped.code === 'SKIFF_INTERNAL') {
    logger.error('request failed', {
      requestId: request.id,
      url: pathOf(request.url),
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      cause: error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined,
    });
  }
  if (mapped.status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  const message =
    mapped.code === 'SKIFF_INTERNAL'
      ? `internal error (request ${request.id}); see the server log`
      : mapped.message;
  const body: Record<string, unknown> =
    pathOf(request.url) === '/predict' ? { success: false, error: message } : { error: message };
  void reply.code(mapped.status).send(body);
}

interface HttpError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** Fastify's own errors (bad JSON, body limits, content types) are folded into Skiff's codes here. */
function toHttpError(error: unknown, contentType: string, path: string): HttpError {
  if (isSkiffError(error))
    return { status: HTTP_STATUS[error.kind], code: error.code, message: error.message };
  const fastifyError = error as Partial<FastifyError> & { code?: string };
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        code: 'SKIFF_BODY_TOO_LARGE',
        message: 'the request body is larger than the limit (--max-body-bytes)',
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        code: 'SKIFF_UNSUPPORTED_MEDIA_TYPE',
        message: `content type "${contentType}" is not accepted by ${path}${
          path === '/predict' ? `; ${PREDICT_USAGE}` : '; send application/json'
        }`,
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: 'SKIFF_BAD_REQUEST', message: 'the request body is not valid JSON' };
    case 'FST_ERR_BAD_URL':
      return {
        status: 400,
        code: 'SKIFF_BAD_REQUEST',
        message: 'the URL path is not valid percent-encoded UTF-8',
      };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        status: 400,
        code: 'SKIFF_BAD_REQUEST',
        message: 'the Content-Length header does not match the body',
      };
  }
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return {
      status: fastifyError.statusCode,
      code: 'SKIFF_BAD_REQUEST',
      message: fastifyError.message ?? 'bad request',
    };
  }
  return { status: 500, code: 'SKIFF_INTERNAL', message: 'internal error' };
}

/** Probes and scrapes come every few seconds from machines; a span for each would drown the real traffic. */
const UNTRACED_ROUTES = /^\/(v2\/health\/|metrics$)/;

function startSpan(tracer: RequestTracer, request: FastifyRequest): RequestSpan {
  const route = request.routeOptions.url;
  if (route === undefined || UNTRACED_ROUTES.test(route)) return NO_TRACER.startRequest('', {}, {});
  return tracer.startRequest(
    `${request.method} ${route}`,
    { traceparent: headerOf(request, 'traceparent'), tracestate: headerOf(request, 'tracestate') },
    {
      'http.request.method': request.method,
      'http.route': route,
      'url.path': pathOf(request.url),
      'skiff.request_id': request.id,
      'skiff.protocol': protocolOf(route),
    },
  );
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Which API a route belongs to, for traces: the same server speaks four. */
function protocolOf(route: string): string {
  if (route === '/predict') return 'predict';
  if (route.startsWith('/v2')) return 'open-inference-v2';
  if (route.startsWith('/v1/')) return 'kserve-v1';
  if (route.startsWith('/api/v1.0/')) return 'seldon';
  return 'http';
}

/** The model a request named in its path (:model) or query (?model=), for lines where no model ran. */
function modelParam(request: FastifyRequest): string | undefined {
  const fromPath = (request.params as Record<string, unknown> | undefined)?.model;
  if (typeof fromPath === 'string') return fromPath;
  const fromQuery = (request.query as Record<string, unknown> | undefined)?.model;
  return typeof fromQuery === 'string' ? fromQuery : undefined;
}

/** A Content-Length header as a number; absent (or streamed, or malformed) gives undefined. */
function byteCount(header: unknown): number | undefined {
  if (typeof header !== 'string' && typeof header !== 'number') return undefined;
  const bytes = Number(header);
  return Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : undefined;
}

export function pathOf(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : url.slice(0, at);
}

interface RoutePattern {
  readonly methods: readonly string[];
  readonly pattern: RegExp;
}

/** Fastify's `:param` (and `::` for a literal colon) as a regular expression over a concrete path. */
function routePattern(url: string, method: string | string[]): RoutePattern {
  // A parameter's regular-expression constraint, `:model([^:/]+)`, matches like any other parameter here.
  const source = url
    .replace(/(:[A-Za-z_]\w*)\([^)]*\)/g, '$1')
    .split('::')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]\w*/g, '[^/]+'))
    .join(':');
  return { methods: Array.isArray(method) ? method : [method], pattern: new RegExp(`^${source}$`) };
}

function allowedMethods(routes: readonly RoutePattern[], url: string): string[] {
  const path = pathOf(url);
  const methods = routes
    .filter((r) => r.pattern.test(path))
    .flatMap((r) => r.methods.filter((m) => m !== 'HEAD'));
  return [...new Set(methods)];
}

/**
 * Health stays open so probes need no secret, and so do the web page's own files (a browser cannot send a
 * bearer token when it opens a page; the page then sends it on every API call). Everything else needs the
 * token (compared in constant time).
 */
function requireBearer(app: FastifyInstance, token: string, isPublicPage: (path: string) => boolean): void {
  const expected = createHash('sha256').update(token).digest();
  app.addHook('onRequest', async (request, reply) => {
    const path = pathOf(request.url);
    if (path.startsWith('/v2/health/') || path === '/metrics' || isPublicPage(path)) return;
    const header = request.headers.authorization ?? '';
    const given = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? '';
    if (!timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
      void reply.header('www-authenticate', 'Bearer');
      throw new SkiffError(
        'SKIFF_UNAUTHENTICATED',
        header === '' ? 'this server needs "Authorization: Bearer <token>"' : 'the bearer token is not valid',
      );
    }
  });
}
