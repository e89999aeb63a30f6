import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

/** How long, and for how many more bytes, a connection answered before its body ended keeps reading. */
export interface LingerLimits {
  readonly ms: number;
  readonly bytes: number;
}

/** One second is many round trips on any network a client would upload over; the bytes bound the parsing. */
export const LINGER_LIMITS: LingerLimits = { ms: 1000, bytes: 32 * 2 ** 20 };

const POLL_MS = 50;

/**
 * Closes connections whose last request was answered before its body was read (a 413, a refused upload)
 * the way RFC 9112 section 9.6 asks: the answer, then our FIN, then a short time still reading and dropping
 * what the client sends, and only then the socket. Node closes such a socket outright (Fastify answers
 * with `Connection: close`), and the client's bytes still arriving make the kernel answer with a reset,
 * which can discard our answer from the client's receive buffer before it was read: the client sees a
 * broken connection instead of the 413. The reading ends at the client's FIN, after `limits.ms`, or after
 * `limits.bytes` more bytes, whichever comes first; every other close is left as Node does it.
 */
export function lingerOnUnreadBodies(server: Server, limits: LingerLimits = LINGER_LIMITS): void {
  const lastRequest = new WeakMap<Socket, IncomingMessage>();
  server.prependListener('request', (request: IncomingMessage) => {
    lastRequest.set(request.socket, request);
  });
  server.on('connection', (socket: Socket) => {
    const destroySoon = socket.destroySoon.bind(socket);
    socket.destroySoon = () => {
      const request = lastRequest.get(socket);
      if (request === undefined || request.complete || socket.readableEnded) destroySoon();
      else linger(socket, limits);
    };
  });
}

/**
 * The same courtesy after an answer to a request whose framing broke (client-error.ts): our FIN, then the
 * socket kept for `ms` before it is destroyed, so that a client still sending can read the answer before the
 * kernel resets the connection over bytes left unread. Nothing more is read: it would go to an HTTP parser
 * that has already failed.
 */
export function closeWithoutReading(socket: Socket, ms: number = LINGER_LIMITS.ms): void {
  socket.pause();
  socket.end();
  const timer = setTimeout(() => socket.destroy(), ms);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

function linger(socket: Socket, limits: LingerLimits): void {
  const startBytes = socket.bytesRead;
  const startedMs = performance.now();
  const poll = setInterval(() => {
    if (performance.now() - startedMs >= limits.ms || socket.bytesRead - startBytes > limits.bytes)
      socket.destroy();
  }, POLL_MS);
  poll.unref();
  socket.once('close', () => clearInterval(poll));
  socket.once('end', () => socket.destroy());
  // The HTTP parser keeps reading the socket and the unread request drops its body: only our side ends.
  socket.end();
}
