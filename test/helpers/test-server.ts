import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServeConfig } from '../../src/config/serve-options.js';
import type { RunningServer, StartOptions } from '../../src/server.js';
import { startServer } from '../../src/server.js';
import { silentLogger } from '../../src/core/logger.js';

/**
 * Starts the real server (real runtime, real codec) on 127.0.0.1, port 0, with test-sized defaults; `extra`
 * swaps in a logger, a runtime or tracing.
 */
export async function startTestServer(
  config: Partial<ServeConfig> & { model: string },
  extra: Partial<Pick<StartOptions, 'logger' | 'runtime' | 'tracing'>> = {},
): Promise<RunningServer> {
  const full: ServeConfig = {
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
    sinceStart: () => performance.now(),
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
