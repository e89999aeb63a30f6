import type { Socket } from 'node:net';
import { closeWithoutReading } from './lingering-close.js';

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request (a slow client, oversized headers,
 * a malformed Content-Length or chunk), in the same `{"error": "..."}` shape as every other answer, then
 * closes the connection: after a framing error nothing more on it can be trusted.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] = describe(error.code);
  // Only when nothing of a response went out yet: a half-written answer cannot be followed by another.
  if (!socket.writable || socket.bytesWritten > 0) {
    socket.destroy(error);
    return;
  }
  const body = JSON.stringify({ error: message });
  socket.write(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  closeWithoutReading(socket);
}

function describe(code: string | undefined): [number, string, string] {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [
        408,
        'Request Timeout',
        'the request did not arrive in time: headers are due within --headers-timeout-ms and the whole request within --body-timeout-ms',
      ];
    case 'HPE_HEADER_OVERFLOW':
      return [
        431,
        'Request Header Fields Too Large',
        "the request headers are larger than the server accepts (Node's --max-http-header-size, 16 KiB by default)",
      ];
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return [400, 'Bad Request', 'malformed HTTP request: the Content-Length header is not a valid length'];
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return [400, 'Bad Request', 'malformed HTTP request: the chunked transfer encoding is broken'];
    default:
      return [400, 'Bad Request', `malformed HTTP request (${code ?? 'unparseable'})`];
  }
}
