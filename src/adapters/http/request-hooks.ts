import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InferenceService } from '../../core/inference-service.js';
import type { Logger } from '../../core/logger.js';
import type { RequestSpan, RequestTracer } from '../../telemetry/request-tracer.js';
import { SkiffError } from '../../core/errors.js';
import { RequestLifetime } from '../../core/request/request-context.js';
import { NO_TRACER } from '../../telemetry/request-tracer.js';
import { RequestRecord, inRequest } from '../../telemetry/request-scope.js';
import { bearerCheck } from '../bearer-check.js';
import type { ConnectionBudget } from './connection-budget.js';
import { attachContext } from './http-context.js';
import { pathOf } from './error-reply.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** An inference route: refused before its body is read when the model's queue is full. */
    inference?: boolean;
  }
}

export interface RequestHookOptions {
  readonly service: InferenceService;
  readonly logger: Logger;
  readonly accessLog: boolean;
  readonly tracer: RequestTracer;
  readonly metrics:
    { httpRequest(route: string, method: string, status: number, seconds: number): void } | undefined;
  /** The server's own bound on a request, queue included; 0: none (the client may still set one). */
  readonly requestTimeoutMs: number;
  readonly maxUrlBytes: number;
  /** Requests each connection has unanswered (HTTP/1.1 pipelining), counted before Fastify saw them. */
  readonly connections: ConnectionBudget;
  readonly authToken: string | undefined;
  /** Paths that need no token even when one is set: health, /metrics, the web page's own files. */
  readonly isPublicPath: (path: string) => boolean;
}

/** The header a client names its own deadline with, in milliseconds (gRPC clients use their call deadline). */
export const TIMEOUT_HEADER = 'x-request-timeout-ms';

/** Probes and scrapes come every few seconds from machines; a span for each would drown the real traffic. */
const UNTRACED_ROUTES = /^\/(v2\/health\/|metrics$)/;

/**
 * Every HTTP request's lifecycle around its route: id, span and access line; the checks that cost nothing
 * and so come first (closing, URL size, unanswered requests on the connection, the token, a model whose
 * queue is full — all before the body is read); the request's deadline and its cancellation when the client
 * goes away; and, once answered, the metrics. Routes only translate and call the core with `contextOf`.
 */
export function installRequestHooks(app: FastifyInstance, options: RequestHookOptions): void {
  const records = new WeakMap<FastifyRequest, { record: RequestRecord; lifetime: RequestLifetime }>();
  const running = new WeakMap<Socket, Set<RequestLifetime>>();
  /**
   * The requests a connection still waits answers for. A client that half-closes it (FIN) has left, as
   * nginx also takes it (499): their work stops at once, before the socket's close, which may come later.
   */
  const inFlight = (socket: Socket): Set<RequestLifetime> => {
    let set = running.get(socket);
    if (set === undefined) {
      const lifetimes = new Set<RequestLifetime>();
      set = lifetimes;
      running.set(socket, lifetimes);
      socket.once('end', () => {
        for (const lifetime of lifetimes) lifetime.cancel('the client closed its side of the connection');
      });
    }
    return set;
  };
  const tracer = options.tracer;
  const authorize = bearerCheck(options.authToken, 'header');
  let closing = false;

  // Once close() has begun, a request that still arrives (on a kept-alive connection that was busy, or
  // pipelined) is refused before anything runs, so a load balancer may safely retry it elsewhere.
  app.addHook('preClose', async () => {
    closing = true;
  });

  const finish = (request: FastifyRequest, reply: FastifyReply | undefined, status: number): void => {
    const entry = records.get(request);
    if (entry === undefined || entry.record.finished) return;
    const { record, lifetime } = entry;
    record.finished = true;
    lifetime.dispose();
    const modelFields = record.modelFields(modelParam(request));
    const aborted = reply === undefined;
    if (options.accessLog) {
      options.logger.info('request', {
        requestId: request.id,
        method: request.method,
        path: pathOf(request.url),
        status,
        ms: record.elapsedMs(),
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
    // The route pattern, not the URL: model names stay out of label cardinality, unknown paths fold into one.
    options.metrics?.httpRequest(
      request.routeOptions.url ?? 'unmatched',
      request.method,
      status,
      record.elapsedMs() / 1000,
    );
  };

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    const lifetime = new RequestLifetime(request.id, {
      serverMs: options.requestTimeoutMs,
      clientMs: clientTimeoutMs(request.headers[TIMEOUT_HEADER]),
    });
    const record = new RequestRecord(request.id, startSpan(tracer, request));
    records.set(request, { record, lifetime });
    attachContext(request, lifetime);
    const socket = request.raw.socket;
    // A client that hangs up while its request runs gets no 'finish' and so no onResponse (Fastify's
    // onRequestAbort only covers a body cut short): the work stops, and the line says nginx's 499.
    inFlight(socket).add(lifetime);
    reply.raw.once('close', () => {
      inFlight(socket).delete(lifetime);
      if (reply.raw.writableFinished) return;
      lifetime.cancel('the connection closed before the answer');
      finish(request, undefined, 499);
    });

    if (closing) {
      throw new SkiffError(
        'SKIFF_SHUTTING_DOWN',
        'the server is shutting down; send the request to another replica',
      );
    }
    if (request.url.length > options.maxUrlBytes) {
      throw new SkiffError(
        'SKIFF_URL_TOO_LONG',
        `the URL has ${request.url.length} bytes; the limit is ${options.maxUrlBytes} (--max-url-bytes)`,
      );
    }
    if (options.connections.isOverLimit(request.raw)) {
      void reply.header('connection', 'close');
      throw new SkiffError(
        'SKIFF_CONNECTION_BUSY',
        `more than ${options.connections.maxUnanswered} requests are unanswered on this connection (--max-pipelined-requests); wait for the answers or open another connection`,
      );
    }
    const path = pathOf(request.url);
    if (!options.isPublicPath(path)) authorize(request.headers.authorization ?? '');
    // Before the body is read: an overloaded model answers at once, without paying for the upload.
    if (request.routeOptions.config.inference === true) options.service.refuseIfFull(modelParam(request));
  });

  // Time spent in the server, for clients (the web page) that want it apart from the network.
  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`);
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    finish(request, reply, reply.statusCode);
  });

  app.addHook('onRoute', (route) => {
    // Handlers run as their request, so the model's report (queue and compute times) finds its way back.
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, request, reply) {
      const entry = records.get(request);
      return entry === undefined
        ? handler.call(this, request, reply)
        : inRequest(entry.record, () => handler.call(this, request, reply));
    };
  });
}

/** A client's deadline header: whole milliseconds, anything else ignored. */
function clientTimeoutMs(header: string | string[] | undefined): number | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  return text !== undefined && /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}

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
