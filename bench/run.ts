/**
 * `npm run bench`: Skiff end to end against ONNX Runtime alone, measured in the same run, on a ResNet50
 * with the real architecture and random weights (built here, ~100 MB, never committed).
 * Rounds alternate between the engine and the server so drift on a shared machine hits both alike;
 * each figure is the median over rounds. Options (env): BENCH_ROUNDS (3), BENCH_SECONDS (6), BENCH_CONFIGS
 * (workers x threads per worker, comma-separated; default `1xN,Nx1` for N cores).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { makeResnet50 } from './make-resnet50.js';
import { median, multipartBody, runLoad } from './load.js';
import type { LoadResult } from './load.js';
import { cliPath, repoRoot, sharedImage, SYNSET_LABELS } from '../test/helpers/paths.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const THREADS = availableParallelism();

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  readonly coldStartMs: number;
  readonly breakdown: string;
}

async function startSkiff(model: string, workers: number, threadsPerWorker: number): Promise<Server> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      cliPath(),
      'serve',
      '--model',
      model,
      '--labels',
      SYNSET_LABELS(),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--workers',
      String(workers),
      '--threads-per-worker',
      String(threadsPerWorker),
      '--max-queue-size',
      '256',
      '--grpc-port=-1',
      '--no-access-log',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const ready = /"msg":"(ready in [^"]+)","url":"([^"]+)"/.exec(log);
      if (ready?.[1] !== undefined && ready[2] !== undefined) {
        resolve({ child, url: ready[2], coldStartMs: performance.now() - started, breakdown: ready[1] });
      }
    });
    child.on('exit', (code) => reject(new Error(`skiff exited with ${code}:\n${log}`)));
  });
}

function rssMiB(pid: number | undefined): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

async function engineAlone(
  session: ort.InferenceSession,
  seconds: number,
): Promise<{ perSecond: number; p50Ms: number }> {
  const input = new ort.Tensor(
    'float32',
    Float32Array.from({ length: 3 * 224 * 224 }, () => Math.random() * 2 - 1),
    [1, 3, 224, 224],
  );
  const times: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  while (performance.now() < deadline) {
    const t0 = performance.now();
    await session.run({ data: input });
    times.push(performance.now() - t0);
  }
  return { perSecond: times.length / ((performance.now() - started) / 1000), p50Ms: median(times) };
}

function line(label: string, result: LoadResult): string {
  return `${label.padEnd(34)} ${result.perSecond.toFixed(1).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(1).padStart(6)} ms  p99 ${result.p99Ms.toFixed(1).padStart(6)} ms  errors ${result.errors}`;
}

async function main(): Promise<void> {
  const model = path.join(repoRoot(), 'bench', '.work', 'resnet50.onnx');
  if (!existsSync(model)) {
    process.stdout.write('building the random-weight ResNet50 (bench/.work/resnet50.onnx)...\n');
    await makeResnet50(model);
  }
  const dog = readFileSync(sharedImage('golden_retriever_puppy.jpg'));
  const { body, contentType } = multipartBody('image', 'dog.jpg', 'image/jpeg', dog);
  const check = (status: number): boolean => status === 200;

  process.stdout.write(
    `ResNet50 (random weights), ${THREADS} cores, ${ROUNDS} rounds x ${SECONDS} s, multipart ${dog.length}-byte JPEG over loopback\n\n`,
  );
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  await engineAlone(session, 1);

  const configs = (process.env.BENCH_CONFIGS ?? `1x${THREADS},${THREADS}x1`).split(',').map((spec) => {
    const [workers = 1, threads = 1] = spec.split('x').map(Number);
    return { name: `skiff ${workers} worker(s) x ${threads} thread(s)`, workers, threads };
  });
  const servers = [];
  for (const config of configs)
    servers.push({ config, server: await startSkiff(model, config.workers, config.threads) });

  const engine: { perSecond: number; p50Ms: number }[] = [];
  const results = new Map<string, LoadResult[]>();
  const record = (key: string, result: LoadResult): void => {
    results.set(key, [...(results.get(key) ?? []), result]);
  };
  for (const { server } of servers)
    await runLoad({ url: `${server.url}/predict`, body, contentType, concurrency: 2, seconds: 2, check });
  for (let round = 0; round < ROUNDS; round++) {
    engine.push(await engineAlone(session, SECONDS));
    for (const { config, server } of servers) {
      for (const concurrency of [1, 8]) {
        record(
          `${config.name} c=${concurrency}`,
          await runLoad({
            url: `${server.url}/predict`,
            body,
            contentType,
            concurrency,
            seconds: SECONDS,
            check,
          }),
        );
      }
    }
    process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
  }

  const enginePerSecond = median(engine.map((e) => e.perSecond));
  const engineP50 = median(engine.map((e) => e.p50Ms));
  process.stdout.write(
    `\nengine alone (ORT, ${THREADS} threads, batch 1)  ${enginePerSecond.toFixed(1).padStart(6)} img/s  p50 ${engineP50.toFixed(1).padStart(6)} ms\n`,
  );
  for (const [key, list] of results) {
    const mid: LoadResult = {
      requests: median(list.map((r) => r.requests)),
      errors: list.reduce((s, r) => s + r.errors, 0),
      seconds: median(list.map((r) => r.seconds)),
      perSecond: median(list.map((r) => r.perSecond)),
      p50Ms: median(list.map((r) => r.p50Ms)),
      p90Ms: median(list.map((r) => r.p90Ms)),
      p99Ms: median(list.map((r) => r.p99Ms)),
      maxMs: Math.max(...list.map((r) => r.maxMs)),
    };
    process.stdout.write(
      `${line(key, mid)}  ratio to engine ${(mid.perSecond / enginePerSecond).toFixed(3)}\n`,
    );
  }
  process.stdout.write('\n');
  for (const { config, server } of servers) {
    const memory = rssMiB(server.child.pid);
    process.stdout.write(
      `${config.name}: cold start to ready ${(server.coldStartMs / 1000).toFixed(2)} s (${server.breakdown}); RSS ${memory.rss.toFixed(0)} MiB, peak ${memory.peak.toFixed(0)} MiB\n`,
    );
    server.child.kill('SIGTERM');
  }
}

await main();
