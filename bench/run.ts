/**
 * `npm run bench`: Skiff end to end, side by side with, in the same run,
 *   - ONNX Runtime alone on the same model and the same total threads (the ceiling),
 *   - Flask + gunicorn + PyTorch serving the same weights (Debian's packages),
 *   - the seed's way: Flask loading the model in every request,
 *   - Skiff serving an int8 ResNet50 (the zoo's if cached, else our QDQ quantization),
 * on a ResNet50 with the real architecture and random weights, built in the setup (bench/.work, never
 * committed). Rounds alternate between the systems so drift on a shared machine hits all alike; each figure
 * is the median over rounds. Env: BENCH_ROUNDS (3), BENCH_SECONDS (6), BENCH_CONFIGS (workers x threads,
 * default `1xN,Nx1` for N cores), BENCH_CONCURRENCY (1,8), BENCH_PEERS=0, BENCH_INT8=0, BENCH_LARGE_PHOTO=0 (skip the 1080x1080 row).
 * Uploads are the shared golden retriever photo scaled to 500x375 (the size issue 4 measured with); the
 * default layout is also measured with the original photo. See docs/performance.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import sharp from 'sharp';
import path from 'node:path';
import { prepareTarget } from '../src/loadgen/bench-target.js';
import { runClosedLoop } from '../src/loadgen/closed-loop.js';
import type { EngineFigure } from '../src/stats/engine-figure.js';
import { HttpClient } from '../src/loadgen/http-client.js';
import { median } from '../src/stats/latency-stats.js';
import type { Send, StepResult } from '../src/loadgen/step-tally.js';
import { measureEngine } from '../src/runtimes/onnx/engine-bench.js';
import { cpuFlags } from '../src/runtimes/onnx/optimized-graph-cache.js';
import { repoRoot } from '../test/helpers/paths.js';
import { SYNSET_LABELS, sharedImage } from './shared-paths.js';
import { ensureBenchModels } from './bench-models.js';
import type { BenchServer } from './bench-server.js';
import { rssMiB, startSkiff } from './bench-server.js';
import { INSTALL_PEERS, peersMissing, startGunicorn, startSeedStyle } from './peer-servers.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const THREADS = availableParallelism();
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,8').split(',').map(Number);
const TOP = Math.max(...LEVELS);
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

interface Contender {
  /** The row's name: the server's, or the server's plus what differs (the large photo). */
  readonly name: string;
  readonly server: BenchServer;
  readonly send: Send;
  readonly client: HttpClient;
  /** Skiff's layout, for the same-threads comparison; undefined for the peers. */
  readonly config?: { readonly workers: number; readonly threads: number };
  readonly kind: 'skiff' | 'skiff-large-photo' | 'skiff-int8' | 'gunicorn' | 'seed';
}

function summarize(list: readonly StepResult[]): {
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
} {
  return {
    perSecond: median(list.map((r) => r.perSecond)),
    p50: median(list.map((r) => r.latency.p50Ms)),
    p90: median(list.map((r) => r.latency.p90Ms)),
    p99: median(list.map((r) => r.latency.p99Ms)),
    max: Math.max(...list.map((r) => r.latency.maxMs)),
    errors: list.reduce((n, r) => n + r.errors, 0),
  };
}

/** prom-client samples the event loop with a timer of this period (its eventLoopMonitoringPrecision default). */
const LOOP_SAMPLE_MS = 10;

/**
 * Skiff's main-thread event-loop delay p99, in ms: prom-client's nodejs_eventloop_lag_p99_seconds, which is
 * the p99 interval between its 10 ms timer's firings (so about 10 ms on an idle loop), minus those 10 ms.
 * Each scrape resets prom-client's histogram, so a scrape before a measurement and one after bound the window.
 */
async function eventLoopP99Ms(client: HttpClient): Promise<number> {
  const reply = await client.send({ method: 'GET', path: '/metrics', headers: {} });
  const value = /^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(
    reply.body.toString('utf8'),
  )?.[1];
  return value === undefined ? NaN : Math.max(0, Number(value) * 1000 - LOOP_SAMPLE_MS);
}

/** The upload size issue 4's figures were measured with; the bench makes one from a real photo. */
const REFERENCE_WIDTH = 500;
const REFERENCE_HEIGHT = 375;

/** The shared photo scaled and centre-cropped to the reference size, as a quality-90 JPEG (as cameras write). */
async function referencePhoto(photo: Buffer): Promise<Buffer> {
  return sharp(photo)
    .resize(REFERENCE_WIDTH, REFERENCE_HEIGHT, { fit: 'cover' })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Whether ONNX Runtime's int8 kernels get VNNI here: without it int8 is about 2x fp32 at best on x86. */
function vnniNote(): string {
  const flags = cpuFlags();
  if (flags.length === 0) return 'CPU flags unknown';
  const has = (flag: string): boolean => flags.includes(flag);
  const isa = has('avx512f') ? 'AVX-512' : has('avx2') ? 'AVX2' : 'no AVX2';
  return `${isa}, ${has('avx512_vnni') || has('avx_vnni') ? 'with' : 'without'} VNNI (int8 dot products)`;
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
const ratio = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}x` : '-');

async function main(): Promise<void> {
  const workDir = path.join(repoRoot(), 'bench', '.work');
  mkdirSync(workDir, { recursive: true });
  const models = await ensureBenchModels(workDir, say);
  const photo = readFileSync(sharedImage('golden_retriever_puppy.jpg'));
  const dog = await referencePhoto(photo);
  const photoSize = await sharp(photo).metadata();
  const configs = (process.env.BENCH_CONFIGS ?? `1x${THREADS},${THREADS}x1`).split(',').map((spec) => {
    const [workers = 1, threads = 1] = spec.split('x').map(Number);
    return { workers, threads };
  });
  const first = configs[0] ?? { workers: 1, threads: THREADS };

  const servers: {
    server: BenchServer;
    kind: Contender['kind'];
    config?: { workers: number; threads: number };
  }[] = [];
  const stopAll = (): void => servers.forEach(({ server }) => server.stop());
  process.on('exit', stopAll);
  for (const config of configs) {
    const server = await startSkiff({
      name: `skiff ${config.workers}x${config.threads}`,
      model: models.fp32,
      labels: SYNSET_LABELS(),
      workers: config.workers,
      threadsPerWorker: config.threads,
    });
    servers.push({ server, kind: 'skiff', config });
  }
  if (models.int8 !== undefined) {
    const int8 = models.int8;
    servers.push({
      server: await startSkiff({
        name: `skiff int8 ${first.workers}x${first.threads}`,
        model: int8.model,
        ...(int8.kind === 'qdq' ? { labels: SYNSET_LABELS() } : {}),
        workers: first.workers,
        threadsPerWorker: first.threads,
        ...(int8.kind === 'zoo' ? { env: { SKIFF_CACHE_DIR: int8.cacheDir } } : {}),
      }),
      kind: 'skiff-int8',
      config: first,
    });
  }
  const missing = process.env.BENCH_PEERS === '0' ? 'BENCH_PEERS=0' : peersMissing();
  if (missing !== undefined || models.stateDict === undefined) {
    say(`skipping the Python peers (${missing ?? 'no PyTorch weights'}); to include them: ${INSTALL_PEERS}`);
  } else {
    // PyTorch's own default in every process: one intra-op thread per core. With one thread, Debian's
    // torch 1.13 (generic BLAS) leaves MKL-DNN for a slow convolution: 1.29 s per ResNet50 image here
    // against 0.12 s with two threads, so "one thread per worker" would make the peer look ten times worse.
    const peer = { stateDict: models.stateDict, labels: SYNSET_LABELS(), threadsPerWorker: THREADS };
    servers.push({ server: await startGunicorn({ ...peer, workers: THREADS }), kind: 'gunicorn' });
    servers.push({ server: await startSeedStyle({ ...peer, workers: 1 }), kind: 'seed' });
  }

  const contenders: Contender[] = [];
  const target = async (client: HttpClient, bytes: Buffer): Promise<Send> =>
    (
      await prepareTarget(client, {
        protocol: 'predict',
        images: [{ name: 'dog.jpg', bytes }],
        imageSize: 224,
        inputData: 'random',
        binaryData: true,
      })
    ).send;
  for (const { server, kind, config } of servers) {
    const client = new HttpClient(server.url, TOP, 600_000);
    const send = await target(client, dog);
    contenders.push({
      name: server.name,
      server,
      send,
      client,
      kind,
      ...(config === undefined ? {} : { config }),
    });
  }
  // The default layout once more with the original photo: what decoding a phone-sized upload costs.
  const firstSkiff = servers.find((s) => s.kind === 'skiff');
  if (firstSkiff !== undefined && process.env.BENCH_LARGE_PHOTO !== '0') {
    const client = new HttpClient(firstSkiff.server.url, TOP, 600_000);
    contenders.push({
      name: `${firstSkiff.server.name} ${photoSize.width}x${photoSize.height}`,
      server: firstSkiff.server,
      send: await target(client, photo),
      client,
      kind: 'skiff-large-photo',
    });
  }

  say(
    `\nResNet50 (random weights, ${models.source === 'pytorch' ? 'torchvision' : 'own ONNX writer'}), ${THREADS} cores, ${ROUNDS} round(s) x ${SECONDS} s per measurement, ` +
      `multipart ${REFERENCE_WIDTH}x${REFERENCE_HEIGHT} JPEG (${dog.length} bytes) over loopback, concurrency ${LEVELS.join(',')}`,
  );
  say(`CPU: ${cpus()[0]?.model ?? 'unknown'}; ${vnniNote()}`);
  if (models.int8 !== undefined)
    say(
      `int8: ${models.int8.kind === 'zoo' ? "the zoo's resnet50-int8 from the Skiff cache" : models.int8.note}`,
    );
  for (const c of contenders) {
    const warm = c.kind === 'seed' ? { requests: 2 } : { durationMs: 2000 };
    await runClosedLoop({ send: c.send, concurrency: Math.min(2, TOP), length: warm });
  }

  const engine: EngineFigure[] = [];
  const results = new Map<string, StepResult[]>();
  const loopDelay = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    engine.push(
      await measureEngine({
        modelPath: models.fp32,
        threads: THREADS,
        warmupMs: 1000,
        durationMs: SECONDS * 1000,
      }),
    );
    for (const c of contenders) {
      for (const concurrency of LEVELS) {
        const key = `${c.name}|${concurrency}`;
        const skiff = c.kind !== 'gunicorn' && c.kind !== 'seed';
        if (skiff) await eventLoopP99Ms(c.client);
        const result = await runClosedLoop({
          send: c.send,
          concurrency,
          length: { durationMs: SECONDS * 1000 },
        });
        results.set(key, [...(results.get(key) ?? []), result]);
        if (skiff) loopDelay.set(key, [...(loopDelay.get(key) ?? []), await eventLoopP99Ms(c.client)]);
      }
    }
    say(`round ${round + 1}/${ROUNDS} done`);
  }

  const enginePerSecond = median(engine.map((e) => e.perSecond));
  const engineP50 = median(engine.map((e) => e.latency.p50Ms));
  say(
    `\nengine alone (ONNX Runtime, ${THREADS} threads, batch 1): ${f1(enginePerSecond)} img/s, p50 ${f1(engineP50)} ms`,
  );
  const width = Math.max(...contenders.map((c) => c.name.length)) + 2;
  say(`${'system'.padEnd(width)}   c    req/s   p50 ms   p90 ms   p99 ms   max ms  errors  x engine`);
  const at = (c: Contender, concurrency: number): ReturnType<typeof summarize> =>
    summarize(results.get(`${c.name}|${concurrency}`) ?? []);
  for (const c of contenders) {
    for (const concurrency of LEVELS) {
      const s = at(c, concurrency);
      say(
        `${c.name.padEnd(width)} ${String(concurrency).padStart(3)} ${f1(s.perSecond).padStart(8)} ${f1(s.p50).padStart(8)} ${f1(s.p90).padStart(8)} ${f1(s.p99).padStart(8)} ${f1(s.max).padStart(8)} ${String(s.errors).padStart(7)}  ${ratio(s.perSecond / enginePerSecond).padStart(8)}`,
      );
    }
  }

  const skiffs = contenders.filter((c) => c.kind === 'skiff');
  const best = skiffs.reduce((a, b) => (at(b, TOP).perSecond > at(a, TOP).perSecond ? b : a));
  const peer = (kind: Contender['kind']): Contender | undefined => contenders.find((c) => c.kind === kind);
  const line = (label: string, value: number, target: string): void =>
    say(`  ${label.padEnd(44)} ${ratio(value).padStart(8)}   target ${target}`);
  say(`\nratios at c=${TOP} (medians over rounds; targets from issue 4):`);
  for (const c of skiffs)
    line(`${c.name} / engine alone`, at(c, TOP).perSecond / enginePerSecond, '>= 0.95x');
  const gunicorn = peer('gunicorn');
  const seed = peer('seed');
  const int8 = peer('skiff-int8');
  if (gunicorn !== undefined)
    line(`${best.name} / ${gunicorn.name}`, at(best, TOP).perSecond / at(gunicorn, TOP).perSecond, '>= 1.4x');
  if (seed !== undefined)
    line(`${best.name} / ${seed.name}`, at(best, TOP).perSecond / at(seed, TOP).perSecond, '>= 8x');
  const fp32Same = skiffs[0];
  if (int8 !== undefined && fp32Same !== undefined)
    line(`${int8.name} / ${fp32Same.name}`, at(int8, TOP).perSecond / at(fp32Same, TOP).perSecond, '>= 3x');
  say(`\nSkiff's main-thread event-loop delay p99 during the c=${TOP} measurements (target <= 10 ms):`);
  for (const c of contenders.filter((x) => x.kind === 'skiff' || x.kind === 'skiff-int8'))
    say(`  ${c.name.padEnd(width)} ${f1(median(loopDelay.get(`${c.name}|${TOP}`) ?? [])).padStart(8)} ms`);
  if (LEVELS.includes(1)) {
    say(`\np50 at c=1 (engine alone ${f1(engineP50)} ms; target: Skiff <= engine + 5 ms):`);
    for (const c of contenders) {
      const p50 = at(c, 1).p50;
      say(
        `  ${c.name.padEnd(width)} ${f1(p50).padStart(8)} ms  (engine ${p50 - engineP50 >= 0 ? '+' : ''}${f1(p50 - engineP50)} ms)`,
      );
    }
  }
  say('');
  for (const c of contenders.filter((x) => x.kind !== 'skiff-large-photo')) {
    const memory = rssMiB(c.server.child.pid);
    const perWorker =
      c.config === undefined
        ? ''
        : `, ${f1(memory.rss / c.config.workers)} MiB per worker incl. the main thread`;
    say(
      `${c.name}: start to ready ${(c.server.coldStartMs / 1000).toFixed(2)} s${c.server.breakdown === undefined ? '' : ` (${c.server.breakdown})`}; RSS ${f1(memory.rss)} MiB (with child processes), peak ${f1(memory.peak)} MiB${perWorker}`,
    );
  }
  const out = path.join(workDir, 'last-run.json');
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        rounds: ROUNDS,
        seconds: SECONDS,
        threads: THREADS,
        engine,
        results: Object.fromEntries(results),
        eventLoopP99Ms: Object.fromEntries(loopDelay),
      },
      null,
      2,
    )}\n`,
  );
  say(`raw rounds: ${path.relative(process.cwd(), out)}`);
  for (const c of contenders) c.client.close();
  stopAll();
}

await main();
