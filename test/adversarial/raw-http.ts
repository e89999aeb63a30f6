import net from 'node:net';
import type { Answer } from './http-answer.js';
import { NO_ANSWER } from './http-answer.js';

/** The request line and headers of an HTTP/1.1 request, as bytes on the wire. */
export function requestHead(
  method: string,
  target: string,
  headers: Readonly<Record<string, string>>,
): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`);
}

function portOf(baseUrl: string): number {
  return Number(new URL(baseUrl).port);
}

export interface StreamedRequest {
  readonly head: Buffer;
  /** Body chunks, written with backpressure until they run out or the server answers. */
  readonly body: Iterable<Buffer>;
  readonly timeoutMs: number;
}

/**
 * Streams a request body that may be far larger than the server should accept, stopping as soon as any
 * answer arrives, and parses that answer. `sentBytes` in the result tells how much the server swallowed.
 */
export function sendStreamed(
  baseUrl: string,
  request: StreamedRequest,
): Promise<Answer & { sentBytes: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let sentBytes = 0;
    let answered = false;
    let settled = false;
    const socket = net.connect(portOf(baseUrl), '127.0.0.1');
    const settle = (answer: Omit<Answer, 'ms' | 'protocol'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...answer, protocol: 'http', ms: performance.now() - started, sentBytes });
    };
    const timer = setTimeout(
      () => settle({ code: `${NO_ANSWER}: timed out after ${request.timeoutMs} ms`, text: '', bytes: 0 }),
      request.timeoutMs,
    );
    const finishFromBytes = (closed: boolean): void => {
      const parsed = parseResponse(received);
      if (parsed !== undefined && (parsed.complete || closed)) settle(parsed.answer);
      else if (closed) settle({ code: `${NO_ANSWER}: connection closed`, text: '', bytes: 0 });
    };
    socket.on('data', (chunk: Buffer) => {
      answered = true;
      received = Buffer.concat([received, chunk]);
      finishFromBytes(false);
    });
    socket.on('close', () => finishFromBytes(true));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      const chunks = request.body[Symbol.iterator]();
      const pump = (): void => {
        if (sentBytes === 0) socket.write(request.head);
        for (;;) {
          if (answered || socket.destroyed) return;
          const next = chunks.next();
          if (next.done === true) return;
          sentBytes += next.value.length;
          if (!socket.write(next.value)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
}

interface ParsedResponse {
  readonly answer: Omit<Answer, 'ms' | 'protocol'>;
  readonly complete: boolean;
}

/** The first response in `bytes`: status, a few headers, the body so far, and whether all of it arrived. */
export function parseResponse(bytes: Buffer): ParsedResponse | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const body = bytes.subarray(end + 4);
  const length = Number(headers.get('content-length') ?? NaN);
  return {
    answer: {
      code: statusLine.split(' ')[1] ?? '0',
      text: body.toString('utf8', 0, Math.min(body.length, 4096)),
      bytes: body.length,
      contentType: headers.get('content-type'),
      retryAfter: headers.get('retry-after'),
    },
    complete: Number.isFinite(length) && body.length >= length,
  };
}
