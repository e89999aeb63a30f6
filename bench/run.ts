/**
 * `npm run bench`: Skiff end to end, side by side with, in the same run,
 *   - ONNX Runtime alone on the same model and the same total threads (the ceiling), fp32 and int8,
 *   - Flask + gunicorn + PyTorch serving the same weights (Debian's packages),
 *   - the seed's way: Flask loading the model in every request,
 *   - Skiff serving an int8 ResNet50 (the zoo's if cached, else our QDQ quantization),
 * on a ResNet50 with the real architecture and random weights, built in the setup (bench/.work, never
 * committed). Rounds alternate between the systems so drift on a shared machine hits all alike; each figure
 * is the median over rounds. Beside the rates it measures CPU: the server's per request (all threads, and the
 * main thread alone), the engine's per image, the load client's own, an idle server's, and any other load on
 * the machine during each measurement (a round with some is called noisy).
 * Env: BENCH_ROUNDS (3), BENCH_SECONDS (6), BENCH_CONFIGS (workers x threads, default `1xN,Nx1` for N cores),
 * BENCH_CONCURRENCY (1,8), BENCH_PEERS=0, BENCH_PEER_WORKERS (gunicorn's, 1), BENCH_INT8=0,
 * BENCH_LARGE_PHOTO=0 (skip the 1080x1080 row), BENCH_OIP=0 (skip the binary-tensor row), BENCH_OIP_JSON=0 (skip the row with
 * the same tensor as JSON numbers), BENCH_GRPC=0 (skip the
 * gRPC row: the same tensor to ModelInfer, on a server of the default layout with gRPC on), BENCH_IDLE_SECONDS
 * (10), BENCH_DECODE_SECONDS (3), BENCH_WARMUP_SECONDS (2); for a smoke run on a fixture: BENCH_MODEL,
 * BENCH_INT8_MODEL, BENCH_LABELS, BENCH_PHOTO, BENCH_WORK_DIR.
 * Uploads are the shared golden retriever photo scaled to 500x375 (the size issue 4 measured with); the
 * default layout is also measured with the original photo, and the decode alone with a phone-sized copy stored
 * turned, as phones store portrait shots. See docs/performance.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import path from 'node:path';
import { prepareTarget } from '../src/loadgen/bench-target.js';
import { prepareGrpcTarget } from '../src/loadgen/grpc-target.js';
import { runClosedLoop } from '../src/loadgen/closed-loop.js';
import type { EngineFigure } from '../src/stats/engine-figure.js';
import { HttpClient } from '../src/loadgen/http-client.js';
import { LeanHttpClient } from '../src/loadgen/lean-http-client.js';
import { median } from '../src/stats/latency-stats.js';
import type { Send, StepResult } from '../src/loadgen/step-tally.js';
import { measureEngine } from '../src/runtimes/onnx/engine-bench.js';
import { measureDecode } from './decode-floor.js';
import type { DecodeFigure } from './decode-floor.js';
import { loadLibjpegDecoder } from '../src/runtimes/libjpeg/libjpeg-decoder.js';
import { cpuFlags } from '../src/runtimes/onnx/optimized-graph-cache.js';
import { repoRoot } from '../test/helpers/paths.js';
import { SYNSET_LABELS, sharedImage } from './shared-paths.js';
import { ensureBenchModels } from './bench-models.js';
import type { BenchServer } from './bench-server.js';
import { rssMiB, startSkiff } from './bench-server.js';
import { measureStarts } from './start-figures.js';
import type { FirstAndLater } from './start-figures.js';
import { INSTALL_PEERS, peersMissing, startGunicorn, startSeedStyle } from './peer-servers.js';
import type { MachineCpu, ProcessCpu } from './cpu-meter.js';
import { machineCpu, otherCores, processCpu, selfCpuMs, threadDeltas, threadShares } from './cpu-meter.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
/** Two periods of the server's 5 s metrics history: a shorter window held one sample or none, and swung with it. */
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const DECODE_SECONDS = Number(process.env.BENCH_DECODE_SECONDS ?? 3);
const PEER_WORKERS = Number(process.env.BENCH_PEER_WORKERS ?? 1);
const THREADS = availableParallelism();
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,8').split(',').map(Number);
const TOP = Math.max(...LEVELS);
/** Other load beyond this many cores' worth during a measurement makes it noisy (5 % of a 2-core machine). */
const NOISE_CORES = Number(process.env.BENCH_NOISE_CORES ?? 0.1);
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

type Kind =
  | 'skiff'
  | 'skiff-large-photo'
  | 'skiff-oip'
  | 'skiff-oip-json'
  | 'skiff-grpc'
  | 'skiff-int8'
  | 'gunicorn'
  | 'seed';

interface Contender {
  /** The row's name: the server's, or the server's plus what differs (the large photo, OIP). */
  readonly name: string;
  readonly server: BenchServer;
  readonly send: Send;
  /** Closes the load's connections; `metrics` scrapes /metrics beside them. */
  readonly close: () => void;
  readonly metrics: HttpClient;
  /** Skiff's layout, for the same-threads comparison; undefined for the peers. */
  readonly config?: { readonly workers: number; readonly threads: number };
  readonly kind: Kind;
}

/** One closed-loop measurement and what it cost. */
interface Measurement {
  readonly step: StepResult;
  /** The server's CPU per successful request, ms: every thread of its process tree. */
  readonly serverMsPerRequest: number;
  /** Its main thread's alone (Skiff only; NaN for the peers, whose work is spread over processes). */
  readonly mainMsPerRequest: number;
  /** The bench process's own CPU per request: the load client. */
  readonly clientMsPerRequest: number;
  /** Cores' worth of other load on the machine meanwhile. */
  readonly otherCores: number;
  /**
   * Skiff only: the mean of its ONNX Runtime runs over the same requests (Triton's compute_infer counter). The
   * client's mean latency minus this is the server's own part, free of the engine's swings between windows.
   */
  readonly runMs: number;
  /**
   * Skiff only, per request, from each thread's scheduler counter: every thread's CPU, and that of the model's
   * worker threads (named WorkerThread: its JavaScript, its image thread's, so the resize and packing, and ONNX
   * Runtime's intra-op threads, which inherit the name). Both come from the same window, unlike the engine-alone
   * figure.
   */
  readonly threadsMsPerRequest: number;
  readonly workerThreadsMsPerRequest: number;
}

const isSkiff = (kind: Kind): boolean => kind !== 'gunicorn' && kind !== 'seed';

/** prom-client samples the event loop with a timer of this period (its eventLoopMonitoringPrecision default). */
const LOOP_SAMPLE_MS = 10;

/** What one scrape of Skiff's /metrics gives the bench. */
interface Scrape {
  /**
   * The main-thread event-loop delay p99, in ms: prom-client's nodejs_eventloop_lag_p99_seconds, which is the
   * p99 interval between its 10 ms timer's firings (so about 10 ms on an idle loop), minus those 10 ms. Each
   * scrape resets prom-client's histogram, so a scrape before a measurement and one after bound the window.
   */
  readonly loopP99Ms: number;
  /** Triton's counters, all models added: inferences so far and the time their ONNX Runtime runs took. */
  readonly inferences: number;
  readonly computeMs: number;
}

async function scrape(client: HttpClient): Promise<Scrape> {
  const reply = await client.send({ method: 'GET', path: '/metrics', headers: {} });
  const text = reply.body.toString('utf8');
  const value = /^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(text)?.[1];
  const total = (name: string): number =>
    [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
  return {
    loopP99Ms: value === undefined ? NaN : Math.max(0, Number(value) * 1000 - LOOP_SAMPLE_MS),
    inferences: total('nv_inference_count'),
    computeMs: total('nv_inference_compute_infer_duration_us') / 1000,
  };
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

/** A 12 Mpx phone camera's frame, for the decode-alone figure: most phone photos are stored turned. */
const PHONE_WIDTH = 4032;
const PHONE_HEIGHT = 3024;

/**
 * The shared photo as a phone writes a portrait shot: 4032x3024 stored sideways with EXIF orientation 6, a
 * Display P3 profile, quality 92.
 */
async function phonePhoto(photo: Buffer): Promise<Buffer> {
  return sharp(photo)
    .resize(PHONE_WIDTH, PHONE_HEIGHT, { fit: 'cover' })
    .withMetadata({ orientation: 6 })
    .withIccProfile('p3')
    .jpeg({ quality: 92 })
    .toBuffer();
}

/** Whether ONNX Runtime's int8 kernels get VNNI here: without it int8 is about 2x fp32 at best on x86. */
function cpuNote(): string {
  const flags = cpuFlags();
  if (flags.length === 0) return 'CPU flags unknown';
  const has = (flag: string): boolean => flags.includes(flag);
  const isa = has('avx512f') ? 'AVX-512' : has('avx2') ? 'AVX2' : 'no AVX2';
  const listed = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'avx512_bf16', 'amx_int8']
    .filter(has)
    .join(' ');
  return `${isa}, ${has('avx512_vnni') || has('avx_vnni') ? 'with' : 'without'} VNNI (int8 dot products); flags: ${listed}`;
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');
/** A difference with its sign, one decimal: +1.2, -0.3 (never "+-0.3"). */
const signed1 = (n: number): string => (Number.isFinite(n) && n >= 0 ? `+${f1(n)}` : f1(n));
const ratio = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}x` : '-');
const percent = (n: number): string => (Number.isFinite(n) ? `${(n * 100).toFixed(1)} %` : '-');
const spread = (values: readonly number[], format: (n: number) => string): string => {
  const finite = values.filter(Number.isFinite);
  return finite.length < 2 ? '' : ` [${format(Math.min(...finite))}–${format(Math.max(...finite))}]`;
};

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Reads every Skiff server's CPU at once (they are all measured against the same window). */
function skiffCpu(servers: readonly BenchServer[]): Map<BenchServer, ProcessCpu> {
  return new Map(servers.map((server) => [server, processCpu(server.child.pid ?? -1)]));
}

async function main(): Promise<void> {
  const workDir = process.env.BENCH_WORK_DIR ?? path.join(repoRoot(), 'bench', '.work');
  mkdirSync(workDir, { recursive: true });
  const models = await ensureBenchModels(workDir, say);
  const labels = process.env.BENCH_LABELS ?? SYNSET_LABELS();
  const photo = readFileSync(process.env.BENCH_PHOTO ?? sharedImage('golden_retriever_puppy.jpg'));
  const dog = await referencePhoto(photo);
  const phone = await phonePhoto(photo);
  const photoSize = await sharp(photo).metadata();
  const configs = (process.env.BENCH_CONFIGS ?? `1x${THREADS},${THREADS}x1`).split(',').map((spec) => {
    const [workers = 1, threads = 1] = spec.split('x').map(Number);
    return { workers, threads };
  });
  const first = configs[0] ?? { workers: 1, threads: THREADS };

  // Skiff's cache (optimized graphs) for this bench only: its servers all start from a saved graph, made by
  // the first-start measurements here, whatever ran on the machine before.
  const benchCache = path.join(workDir, 'cache');
  const int8Model = models.int8;
  const int8File =
    int8Model === undefined ? undefined : int8Model.kind === 'zoo' ? int8Model.file : int8Model.model;
  say('measuring first and later starts (embedded model, ResNet50 fp32 and int8)...');
  const starts = await measureStarts(benchCache, models.fp32, int8File, labels, first);
  const servers: { server: BenchServer; kind: Kind; config?: { workers: number; threads: number } }[] = [];
  const stopAll = (): void => servers.forEach(({ server }) => server.stop());
  process.on('exit', stopAll);
  for (const config of configs) {
    const server = await startSkiff({
      name: `skiff ${config.workers}x${config.threads}`,
      model: models.fp32,
      labels,
      workers: config.workers,
      threadsPerWorker: config.threads,
      env: { SKIFF_CACHE_DIR: benchCache },
    });
    servers.push({ server, kind: 'skiff', config });
  }
  if (process.env.BENCH_GRPC !== '0') {
    const server = await startSkiff({
      name: `skiff ${first.workers}x${first.threads} gRPC`,
      model: models.fp32,
      labels,
      workers: first.workers,
      threadsPerWorker: first.threads,
      env: { SKIFF_CACHE_DIR: benchCache },
      grpc: true,
    });
    servers.push({ server, kind: 'skiff-grpc', config: first });
  }
  // JSON tensors start the server's body decoder, a thread of its own with a heap of its own: a server apart,
  // so that the other servers' RSS stays comparable with earlier runs, and this one's is printed on its own.
  if (process.env.BENCH_OIP_JSON !== '0') {
    const server = await startSkiff({
      name: `skiff ${first.workers}x${first.threads} OIP JSON`,
      model: models.fp32,
      labels,
      workers: first.workers,
      threadsPerWorker: first.threads,
      env: { SKIFF_CACHE_DIR: benchCache },
    });
    servers.push({ server, kind: 'skiff-oip-json', config: first });
  }
  if (int8Model !== undefined) {
    servers.push({
      server: await startSkiff({
        name: `skiff int8 ${first.workers}x${first.threads}`,
        model: int8Model.model,
        ...(int8Model.kind === 'qdq' ? { labels } : {}),
        workers: first.workers,
        threadsPerWorker: first.threads,
        env: { SKIFF_CACHE_DIR: int8Model.kind === 'zoo' ? int8Model.cacheDir : benchCache },
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
    // And one worker per core, each with a thread per core, collapses under load: their OpenMP threads spin
    // against each other (2 workers at c=8: 10.4 req/s at 190 ms of CPU each, against 26.5 req/s and 74 ms
    // for one worker). So the peer runs as PyTorch serves best here: one worker, all cores as its threads.
    const peer = { stateDict: models.stateDict, labels: SYNSET_LABELS(), threadsPerWorker: THREADS };
    servers.push({ server: await startGunicorn({ ...peer, workers: PEER_WORKERS }), kind: 'gunicorn' });
    servers.push({ server: await startSeedStyle({ ...peer, workers: 1 }), kind: 'seed' });
  }
  const skiffServers = servers.filter((s) => isSkiff(s.kind)).map((s) => s.server);

  const contenders: Contender[] = [];
  const target = async (client: LeanHttpClient, bytes: Buffer): Promise<Send> =>
    (
      await prepareTarget(client, {
        protocol: 'predict',
        images: [{ name: 'dog.jpg', bytes }],
        imageSize: 224,
        inputData: 'random',
        binaryData: true,
      })
    ).send;
  const tensorServers: readonly Kind[] = ['skiff-grpc', 'skiff-oip-json'];
  for (const { server, kind, config } of servers.filter((s) => !tensorServers.includes(s.kind))) {
    const client = new LeanHttpClient(server.url, TOP, 600_000);
    const send = await target(client, dog);
    contenders.push({
      name: server.name,
      server,
      send,
      close: () => client.close(),
      metrics: new HttpClient(server.url, 1, 60_000),
      kind,
      ...(config === undefined ? {} : { config }),
    });
  }
  const firstSkiff = servers.find((s) => s.kind === 'skiff');
  // The default layout once more with the original photo: what decoding a phone-sized upload costs.
  if (firstSkiff !== undefined && process.env.BENCH_LARGE_PHOTO !== '0') {
    const client = new LeanHttpClient(firstSkiff.server.url, TOP, 600_000);
    contenders.push({
      name: `${firstSkiff.server.name} ${photoSize.width}x${photoSize.height}`,
      server: firstSkiff.server,
      send: await target(client, photo),
      close: () => client.close(),
      metrics: new HttpClient(firstSkiff.server.url, 1, 60_000),
      kind: 'skiff-large-photo',
    });
  }
  // A random tensor to the Open Inference Protocol's infer, as binary tensor data or as JSON numbers.
  const tensorRow = async (
    server: BenchServer,
    name: string,
    kind: Kind,
    binaryData: boolean,
  ): Promise<Contender> => {
    const client = new LeanHttpClient(server.url, TOP, 600_000);
    const prepared = await prepareTarget(client, {
      protocol: 'v2',
      images: [],
      imageSize: 224,
      inputData: 'random',
      binaryData,
    });
    return {
      name,
      server,
      send: prepared.send,
      close: () => client.close(),
      metrics: new HttpClient(server.url, 1, 60_000),
      kind,
    };
  };
  // And with the Open Inference Protocol's binary tensor data: no image to decode, only HTTP and a tensor.
  if (firstSkiff !== undefined && process.env.BENCH_OIP !== '0')
    contenders.push(
      await tensorRow(firstSkiff.server, `${firstSkiff.server.name} OIP binary`, 'skiff-oip', true),
    );
  // The same tensor over gRPC (ModelInfer, raw_input_contents), from a server of the default layout with gRPC
  // on: the other servers keep it off, so that their figures stay comparable with earlier runs.
  const grpcServer = servers.find((s) => s.kind === 'skiff-grpc');
  if (grpcServer?.server.grpcUrl !== undefined) {
    // A one-model server lists no models over gRPC (no repository): its name comes from KServe V1's list.
    const metrics = new HttpClient(grpcServer.server.url, 1, 60_000);
    const listed = (await metrics.getJson('/v1/models')) as { models?: string[] };
    const grpc = await prepareGrpcTarget(grpcServer.server.grpcUrl, {
      model: listed.models?.[0],
      inputData: 'random',
      timeoutMs: 600_000,
    });
    contenders.push({
      name: grpcServer.server.name,
      server: grpcServer.server,
      send: grpc.send,
      close: () => grpc.close(),
      metrics,
      kind: 'skiff-grpc',
    });
  }

  // The same tensor as JSON numbers, as clients without the binary extension send it: the body decoder's row,
  // last in each round (in run AH, ahead of the gRPC row, that row's figures were the worst of four runs).
  const jsonServer = servers.find((s) => s.kind === 'skiff-oip-json');
  if (jsonServer !== undefined)
    contenders.push(await tensorRow(jsonServer.server, jsonServer.server.name, 'skiff-oip-json', false));
  const modelNote =
    models.source === 'pytorch'
      ? 'ResNet50 (random weights, torchvision)'
      : models.source === 'typescript'
        ? 'ResNet50 (random weights, own ONNX writer)'
        : `model ${path.basename(models.fp32)}`;
  say(
    `\n${modelNote}, ${THREADS} cores, ${ROUNDS} round(s) x ${SECONDS} s per measurement, ` +
      `multipart ${REFERENCE_WIDTH}x${REFERENCE_HEIGHT} JPEG (${dog.length} bytes) over loopback, concurrency ${LEVELS.join(',')}`,
  );
  say(`CPU: ${cpus()[0]?.model ?? 'unknown'}; ${cpuNote()}`);
  if (int8Model !== undefined)
    say(
      `int8: ${int8Model.kind === 'zoo' ? "the zoo's resnet50-int8 from the Skiff cache" : int8Model.note}`,
    );
  for (const c of contenders) {
    const warm = c.kind === 'seed' ? { requests: 2 } : { durationMs: WARMUP_SECONDS * 1000 };
    await runClosedLoop({ send: c.send, concurrency: Math.min(2, TOP), length: warm });
  }

  const engine: EngineFigure[] = [];
  const engineInt8: EngineFigure[] = [];
  const engineNoise: number[] = [];
  const decodes: DecodeFigure[] = [];
  const phoneDecodes: DecodeFigure[] = [];
  const libvipsDecodes: DecodeFigure[] = [];
  const results = new Map<string, Measurement[]>();
  const loopDelay = new Map<string, number[]>();
  const idle = new Map<
    string,
    { totalMsPerSecond: number; mainMsPerSecond: number; otherCores: number; threads: string }[]
  >();
  const engineRun = async (modelPath: string): Promise<EngineFigure> => {
    const before = machineCpu();
    const figure = await measureEngine({
      modelPath,
      threads: THREADS,
      warmupMs: 1000,
      durationMs: SECONDS * 1000,
    });
    engineNoise.push(otherCores(before, machineCpu()));
    return figure;
  };
  for (let round = 0; round < ROUNDS; round++) {
    engine.push(await engineRun(models.fp32));
    if (int8File !== undefined) engineInt8.push(await engineRun(int8File));
    decodes.push(await measureDecode(dog, DECODE_SECONDS * 1000));
    phoneDecodes.push(await measureDecode(phone, DECODE_SECONDS * 1000));
    libvipsDecodes.push(await measureDecode(dog, DECODE_SECONDS * 1000, 'libvips'));

    // Every Skiff server at rest, together: what an idle server burns (timers, metrics, threads).
    await sleep(500);
    const idleBefore = skiffCpu(skiffServers);
    const machineBefore: MachineCpu = machineCpu();
    await sleep(IDLE_SECONDS * 1000);
    const idleAfter = skiffCpu(skiffServers);
    const idleOther = otherCores(machineBefore, machineCpu());
    for (const server of skiffServers) {
      const a = idleBefore.get(server);
      const b = idleAfter.get(server);
      if (a === undefined || b === undefined) continue;
      idle.set(server.name, [
        ...(idle.get(server.name) ?? []),
        {
          totalMsPerSecond: sum(threadDeltas(a, b).values()) / IDLE_SECONDS,
          mainMsPerSecond: (b.mainMs - a.mainMs) / IDLE_SECONDS,
          otherCores: idleOther,
          threads: threadShares(a, b, IDLE_SECONDS),
        },
      ]);
    }

    for (const c of contenders) {
      for (const concurrency of LEVELS) {
        const key = `${c.name}|${concurrency}`;
        const skiff = isSkiff(c.kind);
        const scrapeBefore = skiff ? await scrape(c.metrics) : undefined;
        const pid = c.server.child.pid ?? -1;
        const serverBefore = processCpu(pid);
        const clientBefore = selfCpuMs();
        const machineAt = machineCpu();
        const step = await runClosedLoop({
          send: c.send,
          concurrency,
          length: { durationMs: SECONDS * 1000 },
        });
        const other = otherCores(machineAt, machineCpu());
        const clientMs = selfCpuMs() - clientBefore;
        const serverAfter = processCpu(pid);
        const ok = Math.max(1, step.ok);
        const scrapeAfter = skiff ? await scrape(c.metrics) : undefined;
        if (scrapeAfter !== undefined)
          loopDelay.set(key, [...(loopDelay.get(key) ?? []), scrapeAfter.loopP99Ms]);
        const runs = (scrapeAfter?.inferences ?? NaN) - (scrapeBefore?.inferences ?? NaN);
        const byThread = threadDeltas(serverBefore, serverAfter);
        results.set(key, [
          ...(results.get(key) ?? []),
          {
            step,
            serverMsPerRequest: (serverAfter.treeMs - serverBefore.treeMs) / ok,
            mainMsPerRequest: skiff ? (serverAfter.mainMs - serverBefore.mainMs) / ok : NaN,
            clientMsPerRequest: clientMs / ok,
            otherCores: other,
            runMs: ((scrapeAfter?.computeMs ?? NaN) - (scrapeBefore?.computeMs ?? NaN)) / runs,
            threadsMsPerRequest: skiff ? sum(byThread.values()) / ok : NaN,
            workerThreadsMsPerRequest: skiff ? (byThread.get('WorkerThread') ?? NaN) / ok : NaN,
          },
        ]);
      }
    }
    say(`round ${round + 1}/${ROUNDS} done`);
  }

  const enginePerSecond = median(engine.map((e) => e.perSecond));
  const engineP50 = median(engine.map((e) => e.latency.p50Ms));
  const engineCpu = median(engine.map((e) => e.cpuMsPerRun ?? NaN));
  const int8PerSecond = median(engineInt8.map((e) => e.perSecond));
  const int8P50 = median(engineInt8.map((e) => e.latency.p50Ms));
  const int8Cpu = median(engineInt8.map((e) => e.cpuMsPerRun ?? NaN));
  /** The engine figure a row is compared with: the int8 model's for the int8 server, else the fp32 one's. */
  const engineOf = (c: Contender): { perSecond: number; p50: number; cpu: number } =>
    c.kind === 'skiff-int8'
      ? { perSecond: int8PerSecond, p50: int8P50, cpu: int8Cpu }
      : { perSecond: enginePerSecond, p50: engineP50, cpu: engineCpu };
  say(
    `\nengine alone (ONNX Runtime, ${THREADS} threads, batch 1): ${f1(enginePerSecond)} img/s${spread(
      engine.map((e) => e.perSecond),
      f1,
    )}, p50 ${f1(engineP50)} ms, CPU ${f1(engineCpu)} ms per image`,
  );
  if (engineInt8.length > 0)
    say(
      `engine alone, int8 model:                     ${f1(int8PerSecond)} img/s${spread(
        engineInt8.map((e) => e.perSecond),
        f1,
      )}, p50 ${f1(int8P50)} ms, CPU ${f1(int8Cpu)} ms per image`,
    );
  const decodeP50 = median(decodes.map((d) => d.p50Ms));
  const decodeCpu = median(decodes.map((d) => d.cpuMsPerImage));
  say(
    `decode alone (the photo to a 224x224 FP32 input, as a worker's image thread does): p50 ${f2(decodeP50)} ms${spread(
      decodes.map((d) => d.p50Ms),
      f2,
    )}, CPU ${f2(decodeCpu)} ms per image`,
  );
  const libjpeg = loadLibjpegDecoder();
  say(
    `  JPEG decoder of the image threads: ${libjpeg.decoder === undefined ? `libvips (${libjpeg.reason})` : 'the libjpeg addon'}; libvips' decode of the same photo: p50 ${f2(
      median(libvipsDecodes.map((d) => d.p50Ms)),
    )} ms${spread(
      libvipsDecodes.map((d) => d.p50Ms),
      f2,
    )}, CPU ${f2(median(libvipsDecodes.map((d) => d.cpuMsPerImage)))} ms per image`,
  );
  say(
    `decode alone, a ${PHONE_WIDTH}x${PHONE_HEIGHT} phone photo (turned by EXIF, Display P3 profile): p50 ${f2(
      median(phoneDecodes.map((d) => d.p50Ms)),
    )} ms${spread(
      phoneDecodes.map((d) => d.p50Ms),
      f2,
    )}, CPU ${f2(median(phoneDecodes.map((d) => d.cpuMsPerImage)))} ms per image`,
  );
  const width = Math.max(...contenders.map((c) => c.name.length)) + 2;
  say(
    `${'system'.padEnd(width)}   c    req/s   p50 ms   p90 ms   p99 ms   max ms  errors  x engine   CPU/req  x eng CPU  main/req  client/req`,
  );
  const at = (c: Contender, concurrency: number): Measurement[] =>
    results.get(`${c.name}|${concurrency}`) ?? [];
  const med = (list: readonly Measurement[], pick: (m: Measurement) => number): number =>
    median(list.map(pick));
  const rate = (c: Contender, concurrency: number): number =>
    med(at(c, concurrency), (m) => m.step.perSecond);
  for (const c of contenders) {
    for (const concurrency of LEVELS) {
      const list = at(c, concurrency);
      const s = (pick: (r: StepResult) => number): number => med(list, (m) => pick(m.step));
      const serverCpu = med(list, (m) => m.serverMsPerRequest);
      say(
        `${c.name.padEnd(width)} ${String(concurrency).padStart(3)} ${f1(s((r) => r.perSecond)).padStart(8)} ${f1(s((r) => r.latency.p50Ms)).padStart(8)} ${f1(s((r) => r.latency.p90Ms)).padStart(8)} ${f1(s((r) => r.latency.p99Ms)).padStart(8)} ${f1(Math.max(...list.map((m) => m.step.latency.maxMs))).padStart(8)} ${String(list.reduce((n, m) => n + m.step.errors, 0)).padStart(7)}  ${ratio(s((r) => r.perSecond) / engineOf(c).perSecond).padStart(8)}  ${f1(serverCpu).padStart(8)}  ${ratio(serverCpu / engineOf(c).cpu).padStart(9)}  ${f2(med(list, (m) => m.mainMsPerRequest)).padStart(8)}  ${f2(med(list, (m) => m.clientMsPerRequest)).padStart(10)}`,
      );
    }
  }
  say(
    '(CPU/req: the server process per request, all threads, ms; x eng CPU: that over the engine alone per image; main/req: its main thread; client/req: the load client)',
  );

  const skiffs = contenders.filter((c) => c.kind === 'skiff');
  const best = skiffs.reduce((a, b) => (rate(b, TOP) > rate(a, TOP) ? b : a));
  const peer = (kind: Kind): Contender | undefined => contenders.find((c) => c.kind === kind);
  const line = (label: string, value: number, target: string): void =>
    say(`  ${label.padEnd(52)} ${ratio(value).padStart(8)}   target ${target}`);
  say(`\nratios at c=${TOP} (medians over rounds; targets from issue 4):`);
  for (const c of skiffs) line(`${c.name} / engine alone`, rate(c, TOP) / enginePerSecond, '>= 0.95x');
  const gunicorn = peer('gunicorn');
  const seed = peer('seed');
  const int8 = peer('skiff-int8');
  const oip = peer('skiff-oip');
  const grpc = peer('skiff-grpc');
  if (gunicorn !== undefined)
    line(`${best.name} / ${gunicorn.name}`, rate(best, TOP) / rate(gunicorn, TOP), '>= 1.4x');
  if (seed !== undefined) line(`${best.name} / ${seed.name}`, rate(best, TOP) / rate(seed, TOP), '>= 8x');
  const fp32Same = skiffs[0];
  if (int8 !== undefined && fp32Same !== undefined)
    line(`${int8.name} / ${fp32Same.name}`, rate(int8, TOP) / rate(fp32Same, TOP), '>= 3x');
  say(`\nSkiff's main-thread event-loop delay p99 during the c=${TOP} measurements (target <= 10 ms):`);
  for (const c of contenders.filter((x) => x.kind === 'skiff' || x.kind === 'skiff-int8'))
    say(`  ${c.name.padEnd(width)} ${f1(median(loopDelay.get(`${c.name}|${TOP}`) ?? [])).padStart(8)} ms`);

  // Issue 16's targets, each beside its value and its spread over the rounds.
  say(`\nissue 16 targets (medians over rounds [min–max]):`);
  const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  const target16 = (label: string, value: string, goal: string, ok: boolean): void =>
    say(`  ${label.padEnd(56)} ${value.padStart(24)}   target ${goal.padEnd(10)} ${verdict(ok)}`);
  for (const c of [...skiffs, ...(int8 === undefined ? [] : [int8])]) {
    const list = at(c, TOP);
    const values = list.map((m) => m.step.perSecond / engineOf(c).perSecond);
    const value = median(values);
    target16(
      `c=${TOP} ${c.name} / engine alone${c.kind === 'skiff-int8' ? ' (int8)' : ''}`,
      `${ratio(value)}${spread(values, ratio)}`,
      '>= 0.95x',
      value >= 0.95,
    );
    const busy = list.map((m) => (m.step.perSecond * m.runMs) / 1000 / (c.config?.workers ?? 1));
    say(
      `    (in the same windows its model's workers were inside ONNX Runtime runs ${percent(median(busy))} of the time${spread(busy, percent)})`,
    );
  }
  // The engine alone and the server are measured a minute apart, and the engine's speed swings by a tenth or
  // more from one window to the next on a shared VM: this splits the latency on the same requests instead.
  const sameRequests = (c: Contender): void => {
    const own = at(c, 1).map((m) => m.step.latency.meanMs - m.runMs);
    // The tensor rows (OIP binary, gRPC) have no image to decode.
    const tensors = c.kind === 'skiff-oip' || c.kind === 'skiff-grpc';
    const what = tensors ? `${c.name}: no decoding` : `the decode alone is ${f1(decodeP50)} of it`;
    say(
      `    (on the same requests, ${tensors ? 'c=1 ' : ''}mean latency - the server's mean ONNX Runtime run: ${signed1(median(own))} ms${spread(own, f1)}; ${what})`,
    );
  };
  if (LEVELS.includes(1)) {
    for (const c of [...skiffs.slice(0, 1), ...(int8 === undefined ? [] : [int8])]) {
      const values = at(c, 1).map((m) => m.step.latency.p50Ms - engineOf(c).p50);
      const value = median(values);
      target16(
        `c=1 p50 ${c.name} - engine p50`,
        `${signed1(value)} ms${spread(values, f1)}`,
        '<= +3 ms',
        value <= 3,
      );
      say(
        `    (the photo's decode alone is ${f1(decodeP50)} of it: the server's own part is ${signed1(value - decodeP50)} ms)`,
      );
      sameRequests(c);
    }
    if (oip !== undefined) sameRequests(oip);
    if (grpc !== undefined) sameRequests(grpc);
  }
  for (const c of [...skiffs.slice(0, 1), ...(int8 === undefined ? [] : [int8])]) {
    const values = at(c, TOP).map((m) => m.serverMsPerRequest / engineOf(c).cpu);
    const value = median(values);
    target16(
      `c=${TOP} ${c.name} CPU per request / engine CPU per image`,
      `${ratio(value)}${spread(values, ratio)}`,
      '<= 1.08x',
      value <= 1.08,
    );
    const floor = at(c, TOP).map((m) => m.serverMsPerRequest / (engineOf(c).cpu + decodeCpu));
    say(
      `    (engine + decode alone, ${f1(engineOf(c).cpu + decodeCpu)} ms, is ${ratio((engineOf(c).cpu + decodeCpu) / engineOf(c).cpu)} the engine's; per request / that: ${ratio(median(floor))})`,
    );
    const byThread = at(c, TOP).map((m) => m.threadsMsPerRequest / m.workerThreadsMsPerRequest);
    const outside = at(c, TOP).map((m) => m.threadsMsPerRequest - m.workerThreadsMsPerRequest);
    say(
      `    (in the same windows, by thread: all threads / the model's worker threads (ONNX Runtime's, with the resize and packing) ${ratio(median(byThread))}${spread(byThread, ratio)}; outside them ${f1(median(outside))} ms per request)`,
    );
  }
  const mainTarget = (c: Contender | undefined, what: string, limit: number): void => {
    if (c === undefined) return;
    for (const concurrency of LEVELS) {
      const values = at(c, concurrency).map((m) => m.mainMsPerRequest);
      const value = median(values);
      target16(
        `c=${concurrency} main-thread CPU per ${what}`,
        `${f2(value)} ms${spread(values, f2)}`,
        `<= ${limit} ms`,
        value <= limit,
      );
    }
  };
  mainTarget(fp32Same, '/predict multipart JPEG', 1.5);
  mainTarget(oip, 'OIP binary-tensor request', 1);
  mainTarget(grpc, 'gRPC ModelInfer, the same tensor', 1);
  for (const server of skiffServers) {
    const list = idle.get(server.name) ?? [];
    const total = median(list.map((i) => i.totalMsPerSecond));
    target16(
      `idle ${server.name}: CPU per second (main thread ${f2(median(list.map((i) => i.mainMsPerSecond)))})`,
      `${f2(total)} ms/s${spread(
        list.map((i) => i.totalMsPerSecond),
        f2,
      )}`,
      '<= 1 ms/s',
      total <= 1,
    );
    const worst = list.reduce<(typeof list)[number] | undefined>(
      (w, i) => (w === undefined || i.totalMsPerSecond > w.totalMsPerSecond ? i : w),
      undefined,
    );
    if (worst !== undefined && worst.totalMsPerSecond > 1)
      say(`    its busiest idle window, ms/s by thread: ${worst.threads}`);
  }
  if (engineInt8.length > 0) {
    const values = engine.map((e, i) => (engineInt8[i]?.perSecond ?? NaN) / e.perSecond);
    const value = median(values);
    target16('int8 / fp32, engine alone', `${ratio(value)}${spread(values, ratio)}`, '>= 2.9x', value >= 2.9);
    // The same engines' CPU per image: what the int8 kernels save, apart from how well two threads share them.
    const cpuValues = engine.map((e, i) => (e.cpuMsPerRun ?? NaN) / (engineInt8[i]?.cpuMsPerRun ?? NaN));
    say(
      `    (fp32 / int8 CPU per image, engine alone: ${ratio(median(cpuValues))}${spread(cpuValues, ratio)})`,
    );
    if (int8 !== undefined && fp32Same !== undefined) {
      const skiffValues = at(int8, TOP).map(
        (m, i) => m.step.perSecond / (at(fp32Same, TOP)[i]?.step.perSecond ?? NaN),
      );
      say(
        `  ${`int8 / fp32, Skiff at c=${TOP} (${int8.name} / ${fp32Same.name})`.padEnd(56)} ${`${ratio(median(skiffValues))}${spread(skiffValues, ratio)}`.padStart(24)}`,
      );
    }
  }
  const memory = new Map(servers.map(({ server }) => [server, rssMiB(server.child.pid)]));
  /** First / later ready times; issue 16's "ready <= 1 s" is the embedded model's (`target`). */
  const startLine = (label: string, figures: FirstAndLater | undefined, target = false): void => {
    if (figures === undefined) return;
    const slower = Math.max(figures.first.readyMs, figures.later.readyMs);
    const value = `${f2(figures.first.readyMs / 1000)} / ${f2(figures.later.readyMs / 1000)} s`;
    if (target) target16(label, value, '<= 1 s', slower <= 1000);
    else say(`  ${label.padEnd(56)} ${value.padStart(24)}`);
  };
  startLine('ready from process start, embedded model, first / later', starts.embedded, true);
  startLine(`ready, ResNet50 fp32 ${first.workers}x${first.threads}, first / later start`, starts.fp32);
  startLine(`ready, ResNet50 int8 ${first.workers}x${first.threads}, first / later start`, starts.int8);
  const rssLine = (label: string, figures: FirstAndLater | undefined): void => {
    if (figures === undefined) return;
    const value = `${f1(figures.first.rssMiB)} / ${f1(figures.later.rssMiB)} MiB`;
    say(`  ${label.padEnd(56)} ${value.padStart(24)}`);
  };
  rssLine(`RSS after ready, fp32 ${first.workers}x${first.threads}, first / later start`, starts.fp32);
  rssLine(`RSS after ready, int8 ${first.workers}x${first.threads}, first / later start`, starts.int8);
  for (const c of contenders.filter((x) => x.kind === 'skiff' || x.kind === 'skiff-int8')) {
    target16(
      `ready from process start (graph saved), ${c.name}`,
      `${f2(c.server.coldStartMs / 1000)} s`,
      '<= 1 s',
      c.server.coldStartMs <= 1000,
    );
  }
  for (const c of contenders.filter((x) => x.kind === 'skiff' && x.config !== undefined)) {
    const perWorker = (memory.get(c.server)?.rss ?? NaN) / (c.config?.workers ?? 1);
    target16(
      `RSS per worker (main thread included), ${c.name}`,
      `${f1(perWorker)} MiB`,
      '<= 400 MiB',
      perWorker <= 400,
    );
  }

  // Other load on the machine: a figure from a noisy measurement is the machine's, not the server's.
  const all = [...results.values()].flat();
  const noisy = all.filter((m) => m.otherCores > NOISE_CORES).length;
  const noisyEngine = engineNoise.filter((n) => n > NOISE_CORES).length;
  const idleNoisy = [...idle.values()].flat().filter((i) => i.otherCores > NOISE_CORES).length;
  const worst = Math.max(0, ...all.map((m) => m.otherCores), ...engineNoise);
  say(
    noisy + noisyEngine + idleNoisy === 0
      ? `\nmachine: quiet (other load at most ${f2(worst)} cores in any measurement; noisy above ${NOISE_CORES})`
      : `\nmachine: NOISY: other load above ${NOISE_CORES} cores in ${noisy} of ${all.length} measurements, ${noisyEngine} of ${engineNoise.length} engine runs and ${idleNoisy} idle windows (at most ${f2(worst)} cores): treat this run's figures as the machine's, not the server's`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    const inRound = [...results.values()].map((list) => list[round]).filter((m) => m !== undefined);
    const most = Math.max(0, ...inRound.map((m) => m.otherCores));
    if (most > NOISE_CORES) say(`  round ${round + 1}: other load up to ${f2(most)} cores`);
  }

  say('');
  const sameServer: readonly Kind[] = ['skiff-large-photo', 'skiff-oip'];
  for (const c of contenders.filter((x) => !sameServer.includes(x.kind))) {
    const rss = memory.get(c.server) ?? { rss: NaN, peak: NaN };
    const perWorker =
      c.config === undefined
        ? ''
        : `, ${f1(rss.rss / c.config.workers)} MiB per worker incl. the main thread`;
    say(
      `${c.name}: start to ready ${(c.server.coldStartMs / 1000).toFixed(2)} s${c.server.breakdown === undefined ? '' : ` (${c.server.breakdown})`}; RSS ${f1(rss.rss)} MiB (with child processes), peak ${f1(rss.peak)} MiB${perWorker}`,
    );
  }
  const out = path.join(workDir, 'last-run.json');
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        cpu: cpus()[0]?.model,
        flags: cpuNote(),
        rounds: ROUNDS,
        seconds: SECONDS,
        threads: THREADS,
        engine,
        engineInt8,
        engineOtherCores: engineNoise,
        decode: decodes,
        phoneDecode: phoneDecodes,
        idle: Object.fromEntries(idle),
        results: Object.fromEntries(results),
        eventLoopP99Ms: Object.fromEntries(loopDelay),
        starts,
      },
      null,
      2,
    )}\n`,
  );
  say(`raw rounds: ${path.relative(process.cwd(), out)}`);
  for (const c of contenders) {
    c.close();
    c.metrics.close();
  }
  stopAll();
}

await main();
