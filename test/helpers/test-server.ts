import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { ServeConfig } from '../../src/config/serve-options.js';
import type { RunningServer, StartOptions } from '../../src/server.js';
import { startServer } from '../../src/server.js';
import { silentLogger } from '../../src/core/logger.js';
import { SERVE_OPTIONS } from '../../src/config/serve-options.js';
import { loadConfig } from '../../src/config/load-config.js';

/**
 * Starts the real server (real runtime, real codec) on 127.0.0.1, port 0, with test-sized defaults; `extra`
 * swaps in a logger, a runtime or tracing.
 */
export async function startTestServer(
  config: Partial<ServeConfig> & { model: string },
  extra: Partial<Pick<StartOptions, 'logger' | 'runtime' | 'tracing'>> = {},
): Promise<RunningServer> {
  const full: ServeConfig = {
    // Every option's documented default first, so that new limits apply in tests as they do in production.
    ...loadConfig(SERVE_OPTIONS, { flags: {}, env: {}, file: undefined }),
    host: '127.0.0.1',
    port: 0,
    grpcPort: -1,
    repositoryApi: false,
    requestTimeoutMs: 60_000,
    headersTimeoutMs: 10_000,
    bodyTimeoutMs: 30_000,
    modelLoadTimeoutMs: 300_000,
    drainDelayMs: 0,
    shutdownTimeoutMs: 20_000,
    topK: 5,
    workers: 1,
    threadsPerWorker: 1,
    maxQueueSize: 64,
    maxBodyBytes: 20 * 1024 * 1024,
    maxImagePixels: 40_000_000,
    maxTensorElements: 2 ** 23,
    accessLog: true,
    logFormat: 'json',
    ui: true,
    // Each test server has a fresh cache folder: saving graphs there would only fill /tmp.
    graphCache: false,
    verbose: false,
    ...config,
  };
  return startServer({
    config: full,
    cacheDir: mkdtempSync(path.join(os.tmpdir(), 'skiff-cache-')),
    logger: silentLogger,
    progress: false,
    ...extra,
  });
}

/** POSTs an image as the multipart field "image", as `curl -F image=@file` does. */
export async function postImage(
  url: string,
  bytes: Uint8Array,
  fileName = 'image.jpg',
  type = 'image/jpeg',
): Promise<Response> {
  const form = new FormData();
  form.append('image', new Blob([bytes], { type }), fileName);
  return fetch(url, { method: 'POST', body: form });
}

/**
 * POSTs `body` in 64 KiB writes with node:http and resolves with the answer even when the server answers
 * before reading the body and closes the connection (a 413 from its Content-Length): fetch() then reports
 * the broken upload (EPIPE) instead, depending on how much it had written. `chunked` leaves out Content-Length.
 */
export function postEarlyAnswer(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  chunked = false,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: {
        ...headers,
        ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) }),
      },
    });
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    // A write cut off by the server's close is expected once it has answered; 'response' has the answer.
    let cutOff: Error | undefined;
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') cutOff = error;
      else reject(error);
    });
    request.on('close', () => {
      if (!answered) reject(cutOff ?? new Error('the connection closed without an answer'));
    });
    for (let at = 0; at < body.length; at += 64 * 1024) request.write(body.subarray(at, at + 64 * 1024));
    request.end();
  });
}
