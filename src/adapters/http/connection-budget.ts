import { createRequire } from 'node:module';
import type * as NodeHttp from 'node:http';
import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

// Required, not imported: an ES module's `import ... from 'node:http'` makes Node build that module's ESM
// facade, which reads every lazy export and so loads undici (for fetch and WebSocket), 800 KB of JavaScript
// compiled at start-up and kept in the heap that every full collection then marks.
const http = createRequire(import.meta.url)('node:http') as typeof NodeHttp;

/**
 * How many requests each HTTP connection has unanswered (HTTP/1.1 pipelining), counted before the framework
 * sees a request. Answers to pipelined requests queue in memory until the client reads the earlier ones, and
 * Node parses every request in a read (thousands in 64 KiB of small GETs) in one go: a client that never reads
 * must not make the server hold, or even route, an unbounded number of them. The first request over the limit
 * is handed on marked (`isOverLimit`) to be refused with a 503 and `Connection: close`, and reading stops; every
 * later one on that connection is dropped here, at the cost of Node's own parsing only.
 */
export class ConnectionBudget {
  private readonly unanswered = new WeakMap<Socket, number>();
  private readonly refusedSockets = new WeakSet<Socket>();
  private readonly overLimit = new WeakSet<IncomingMessage>();

  constructor(readonly maxUnanswered: number) {}

  /** Wraps the framework's request handler; false when the request was dropped and must not reach it. */
  admit(request: IncomingMessage, response: ServerResponse): boolean {
    const socket = request.socket;
    if (this.refusedSockets.has(socket)) {
      // A client that reads nothing has earned no more: the connection goes. One that reads gets the 503
      // already queued, then the close it announced; this request is never answered, like any after a close.
      if (socket.writableLength > 0) socket.destroy();
      return false;
    }
    const waiting = (this.unanswered.get(socket) ?? 0) + 1;
    this.unanswered.set(socket, waiting);
    response.once('close', () => {
      this.unanswered.set(socket, (this.unanswered.get(socket) ?? 1) - 1);
    });
    if (waiting > this.maxUnanswered) {
      this.refusedSockets.add(socket);
      this.overLimit.add(request);
      socket.pause();
    }
    return true;
  }

  /** Whether this request is the one over the limit, to be answered 503 with `Connection: close`. */
  isOverLimit(request: IncomingMessage): boolean {
    return this.overLimit.has(request);
  }

  /**
   * An HTTP/1.1 server as Fastify would build it from these settings, whose requests pass `admit` first
   * (Fastify's `serverFactory`).
   */
  server(handler: Handler, settings: GatedServerSettings): NodeHttp.Server {
    const server = http.createServer(settings.http, (request, response) => {
      if (this.admit(request, response)) handler(request, response);
    });
    server.keepAliveTimeout = settings.keepAliveTimeoutMs;
    server.requestTimeout = settings.requestTimeoutMs;
    return server;
  }
}

export interface GatedServerSettings {
  readonly http: ServerOptions;
  readonly keepAliveTimeoutMs: number;
  /** Node's bound on receiving a whole request (headers and body). */
  readonly requestTimeoutMs: number;
}
