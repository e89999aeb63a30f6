/**
 * `npm run soak`: the long soak. Starts `skiff serve` (the built CLI) on a real model, drives steady
 * closed-loop load for SOAK_MINUTES and prints one row per window: requests, errors, p50/p99/max latency and
 * the server's RSS. Not part of `npm test`; the short soak in test/e2e/soak.test.ts is.
 * Options (env): SOAK_MINUTES (10), SOAK_WINDOW_SECONDS (60), SOAK_CONCURRENCY (4), SOAK_MODEL (MobileNet V2
 * from ../shared/models), SOAK_LABELS (the synset labels), SOAK_IMAGE (the golden retriever photo),
 * SOAK_THREADS (threads per worker, 1). Exits 1 if any request failed.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cliPath } from '../test/helpers/paths.js';
import { SYNSET_LABELS, sharedImage, sharedModel } from './shared-paths.js';
import { formatWindow, soak, WINDOW_TABLE_HEAD } from './soak-windows.js';
import { readyLine } from './ready-line.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const WINDOW_SECONDS = Number(process.env.SOAK_WINDOW_SECONDS ?? 60);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 4);
const MODEL =
  process.env.SOAK_MODEL ??
  sharedModel('mobilenet_v2_1.0_224_quant', 'mobilenet_v2_1.0_224_quant_imagenet.onnx');
const LABELS = process.env.SOAK_LABELS ?? SYNSET_LABELS();
const IMAGE = process.env.SOAK_IMAGE ?? sharedImage('golden_retriever_puppy.jpg');
const THREADS = process.env.SOAK_THREADS ?? '1';

const child = spawn(
  process.execPath,
  [
    cliPath(),
    'serve',
    '--model',
    MODEL,
    '--labels',
    LABELS,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--grpc-port=-1',
    '--threads-per-worker',
    THREADS,
    '--no-access-log',
    '--log-format',
    'json',
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let log = '';
const url = await new Promise<string>((resolve, reject) => {
  child.stderr.on('data', (chunk: Buffer) => {
    log += chunk.toString();
    const ready = readyLine(log);
    if (ready !== undefined) resolve(ready.url);
  });
  child.on('close', (code) => reject(new Error(`skiff serve exited with ${code}:\n${log}`)));
});
if (child.pid === undefined) throw new Error('no server process');

const windows = Math.max(1, Math.round((MINUTES * 60) / WINDOW_SECONDS));
console.log(
  `soak: ${windows} x ${WINDOW_SECONDS} s, ${CONCURRENCY} clients, POST ${url}/predict (${IMAGE}) on ${MODEL}, ${THREADS} thread(s) per worker`,
);
console.log(WINDOW_TABLE_HEAD);
const results = await soak({
  url: `${url}/predict`,
  body: readFileSync(IMAGE),
  contentType: 'image/jpeg',
  concurrency: CONCURRENCY,
  windows,
  windowSeconds: WINDOW_SECONDS,
  pid: child.pid,
  metricsUrl: `${url}/metrics`,
  onWindow: (window) => console.log(formatWindow(window)),
});
// SIGINT: no drain delay to sit through; nothing is in flight any more.
child.kill('SIGINT');
const first = results[0];
const last = results[results.length - 1];
const errors = results.reduce((sum, w) => sum + w.errors, 0);
if (first !== undefined && last !== undefined) {
  console.log(
    `RSS ${first.rssMiB.toFixed(1)} MiB after the first window, ${last.rssMiB.toFixed(1)} MiB at the end ` +
      `(${(last.rssMiB - first.rssMiB).toFixed(1)} MiB); ${errors} errors`,
  );
}
process.exitCode = errors === 0 ? 0 : 1;
