import http from 'node:http';
import type { HttpPayload } from './inference-payloads.js';

/** How one attack request ended, as a client saw it. */
export interface Answer {
  /** HTTP status ("413"), gRPC code name ("RESOURCE_EXHAUSTED"), or "no answer: <why>". */
  readonly code: string;
  readonly protocol: 'http' | 'grpc';
  /** From the first byte sent to the whole answer (or the failure). */
  readonly ms: number;
  /** The first 4 KiB of the body (HTTP) or the details (gRPC), for shape and leak checks. */
  readonly text: string;
  readonly bytes: number;
  readonly contentType?: string | undefined;
  readonly retryAfter?: string | undefined;
}

export const NO_ANSWER = 'no answer';
const KEPT_TEXT = 4096;

/**
 * One HTTP request on a connection of its own; the body is counted and its first 4 KiB kept, so that a
 * response of hundreds of MB costs the attacker nothing. Never rejects: network errors are answers too.
 */
export function sendHttp(
  baseUrl: string,
  payload: HttpPayload & { readonly method?: string },
  timeoutMs: number,
  agent: http.Agent | false = false,
): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: Omit<Answer, 'ms' | 'protocol'>): void => {
      if (settled) return;
      settled = true;
      resolve({ ...answer, protocol: 'http', ms: performance.now() - started });
    };
    const request = http.request(
      new URL(payload.path, baseUrl),
      {
        method: payload.method ?? 'POST',
        agent,
        headers: { ...payload.headers, 'content-length': String(payload.body.length) },
      },
      (response) => {
        let text = '';
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (text.length < KEPT_TEXT) text += chunk.toString('utf8', 0, KEPT_TEXT - text.length);
        });
        response.on('end', () =>
          settle({
            code: String(response.statusCode ?? 0),
            text,
            bytes,
            contentType: response.headers['content-type'],
            retryAfter: header(response.headers['retry-after']),
          }),
        );
        response.on('error', (error) => settle({ code: `${NO_ANSWER}: ${error.message}`, text, bytes }));
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    request.on('error', (error) => settle({ code: `${NO_ANSWER}: ${error.message}`, text: '', bytes: 0 }));
    request.end(payload.body);
  });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
