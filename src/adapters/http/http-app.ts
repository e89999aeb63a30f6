import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
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
  /** Prometheus exposition behind GET /metrics, and a per-request observation. */
  readonly metrics?: HttpMetrics | undefined;
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
    // A caller's x-request-id (if sane) follows the request through logs and errors; otherwise a fresh one.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    },
  });
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
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
  if (options.accessLog !== false) {
    app.addHook('onResponse', async (request, reply) => {
      options.logger.info('request', {
        requestId: request.id,
        method: request.method,
        path: pathOf(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      });
    });
  }
  if (options.authToken !== undefined) requireBearer(app, options.authToken);
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

  await app.register(multipart, {
    limits: {
      fileSize: options.maxBodyBytes,
      files: 1,
      fields: 20,
      parts: 40,
      fieldSize: 64 * 1024,
      headerPairs: 100,
    },
  });

  const routes: RoutePattern[] = [];
  const documented: { method: string; url: string }[] = [];
  app.addHook('onRoute', (route) => {
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
  registerPredictRoute(app, options);
  registerHealthRoutes(app, options.service);
  await registerOipRoutes(app, options.service);
  registerV1Routes(app, options.service, options.defaultTopK);
  registerSeldonRoutes(app, options.service, options.defaultTopK);
  if (metrics !== undefined) {
    app.get('/metrics', async (_request, reply) =>
      reply.type(metrics.contentType).send(await metrics.text()),
    );
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
    case 'FST_REQ_FILE_TOO_LARGE':
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
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return {
        status: 400,
        code: 'SKIFF_BAD_REQUEST',
        message: `malformed multipart request: ${fastifyError.message ?? ''}`,
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
  if (
    error instanceof Error &&
    /Multipart: Boundary not found|Unexpected end of (form|multipart)|Malformed part header/i.test(
      error.message,
    )
  ) {
    return {
      status: 400,
      code: 'SKIFF_BAD_REQUEST',
      message: `malformed multipart request: ${error.message}`,
    };
  }
  return { status: 500, code: 'SKIFF_INTERNAL', message: 'internal error' };
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

/** Health stays open so probes need no secret; everything else needs the token (compared in constant time). */
function requireBearer(app: FastifyInstance, token: string): void {
  const expected = createHash('sha256').update(token).digest();
  app.addHook('onRequest', async (request, reply) => {
    const path = pathOf(request.url);
    if (path.startsWith('/v2/health/') || path === '/metrics') return;
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
