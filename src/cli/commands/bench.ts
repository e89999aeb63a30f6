import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BenchConfig } from '../../config/bench-options.js';
import { SkiffError } from '../../core/errors.js';
import { readRegularFileSync } from '../../host/regular-file.js';
import type { ImageFile, Target } from '../../loadgen/bench-target.js';
import { prepareTarget } from '../../loadgen/bench-target.js';
import { formatReport } from '../../loadgen/format-report.js';
import { HttpClient } from '../../loadgen/http-client.js';
import { authorizationHeaders } from '../../loadgen/authorization-headers.js';
import type { BenchPlan } from '../../loadgen/run-bench.js';
import { runBench } from '../../loadgen/run-bench.js';
import type { CommandIo } from '../command-spec.js';
import { BENCH_COMMAND } from '../command-table.js';
import { commandHelp, loadCommandConfig, parseCommandFlags } from '../read-command.js';

export const BENCH_HELP = commandHelp(BENCH_COMMAND);

/**
 * Reads and checks the flags; throws SKIFF_CONFIG_INVALID for a bad value or a contradiction, even with --help
 * (which the caller then prints).
 */
export function readBenchConfig(argv: readonly string[]): { help: boolean; config: BenchConfig } {
  const flags = parseCommandFlags(BENCH_COMMAND, argv);
  return { help: flags.help, config: loadCommandConfig(BENCH_COMMAND, flags, { env: {}, cwd: '' }) };
}

export function benchPlan(config: BenchConfig): BenchPlan {
  return {
    levels:
      config.rate === undefined
        ? config.concurrency.map((concurrency) => ({ kind: 'concurrency', concurrency }))
        : config.rate.map((ratePerSecond) => ({ kind: 'rate', ratePerSecond })),
    length:
      config.requests === undefined ? { durationMs: config.duration * 1000 } : { requests: config.requests },
    warmupMs: config.warmup * 1000,
    maxInFlight: config.maxInFlight,
  };
}

/** `skiff bench`: the report on stdout (a table, or JSON with --json); progress on stderr at a terminal. */
export async function benchCommand(io: CommandIo): Promise<number> {
  const { help, config } = readBenchConfig(io.argv);
  if (help) {
    io.stdout(BENCH_HELP);
    return 0;
  }
  const plan = benchPlan(config);
  const images = config.image === undefined ? [] : readImages(config.image, io.cwd);
  const modelFile = config.modelFile === undefined ? undefined : path.resolve(io.cwd, config.modelFile);
  const sockets = Math.max(
    ...plan.levels.map((l) => (l.kind === 'concurrency' ? l.concurrency : config.maxInFlight)),
  );
  const target = await prepare(config, images, sockets).catch((error: unknown) => {
    throw new SkiffError(
      'SKIFF_CONFIG_INVALID',
      `cannot prepare requests for ${config.url}: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  try {
    const progress = new Progress(io.stderr, io.stderrIsTty);
    if (!config.json) io.stdout(`${config.url}: ${target.description}\n`);
    const report = await runBench(plan, target.send, {
      ...(modelFile === undefined
        ? {}
        : {
            engine: async () => {
              // Loaded only here: the load generator alone never needs the ONNX addon.
              const { measureEngine } = await import('../../runtimes/onnx/engine-bench.js');
              return measureEngine({
                modelPath: modelFile,
                threads: config.threads,
                warmupMs: Math.min(2000, Math.max(500, config.warmup * 1000)),
                durationMs: 'durationMs' in plan.length ? plan.length.durationMs : 5000,
              });
            },
          }),
      onPhase: (phase) => progress.show(`${phase}...`),
      onProgress: (phase, live) => {
        const seconds = (performance.now() - live.startedAt) / 1000;
        progress.show(
          `${phase}  ${seconds.toFixed(1)} s  ${live.ok} ok  ${live.errors} errors  ${(live.ok / Math.max(seconds, 1e-3)).toFixed(1)} req/s`,
        );
      },
      onStep: () => progress.clear(),
    });
    progress.clear();
    io.stdout(
      config.json
        ? `${JSON.stringify({ url: config.url, protocol: config.protocol, model: config.model ?? null, sending: target.description, ...report }, null, 2)}\n`
        : formatReport(report),
    );
    return report.ok === 0 && report.errors > 0 ? 2 : 0;
  } finally {
    target.close();
  }
}

/** The sender for the protocol asked, and how to close its connections. */
async function prepare(
  config: BenchConfig,
  images: readonly ImageFile[],
  sockets: number,
): Promise<Target & { close(): void }> {
  if (config.protocol === 'grpc') {
    // Loaded only here: HTTP benchmarks never load grpc-js.
    const { prepareGrpcTarget } = await import('../../loadgen/grpc-target.js');
    return prepareGrpcTarget(config.url, {
      model: config.model,
      authToken: config.authToken,
      inputData: config.inputData,
      timeoutMs: config.timeout * 1000,
    });
  }
  const client = new HttpClient(
    config.url,
    sockets,
    config.timeout * 1000,
    authorizationHeaders(config.authToken),
  );
  try {
    const target = await prepareTarget(client, {
      protocol: config.protocol,
      model: config.model,
      images,
      imageSize: config.imageSize,
      inputData: config.inputData,
      binaryData: config.binaryData,
    });
    return { ...target, close: () => client.close() };
  } catch (error) {
    client.close();
    throw error;
  }
}

/** Files as given; folders contribute their .jpg/.jpeg/.png/.webp files, sorted. */
function readImages(list: string, cwd: string): ImageFile[] {
  const files: string[] = [];
  for (const entry of list.split(',').map((p) => path.resolve(cwd, p.trim()))) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(entry).isDirectory();
    } catch {
      throw new SkiffError('SKIFF_CONFIG_INVALID', `--image: no such file or folder: ${entry}`);
    }
    if (!isDirectory) files.push(entry);
    else
      files.push(
        ...readdirSync(entry)
          .filter((name) => /\.(jpe?g|png|webp)$/i.test(name))
          .sort()
          .map((name) => path.join(entry, name)),
      );
  }
  if (files.length === 0) throw new SkiffError('SKIFF_CONFIG_INVALID', `--image: no images in ${list}`);
  return files.map((file) => ({
    name: path.basename(file),
    bytes: readRegularFileSync(file, { code: 'SKIFF_CONFIG_INVALID', what: '--image:' }),
  }));
}

/** One self-rewriting line on a terminal, at most every 200 ms; nothing when stderr is not a TTY. */
class Progress {
  private lastDraw = 0;
  private shown = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly enabled: boolean,
  ) {}

  show(text: string): void {
    const now = performance.now();
    if (!this.enabled || now - this.lastDraw < 200) return;
    this.lastDraw = now;
    this.shown = true;
    this.write(`\r\u001b[2K${text}`);
  }

  clear(): void {
    if (!this.shown) return;
    this.shown = false;
    this.lastDraw = 0;
    this.write('\r\u001b[2K');
  }
}
