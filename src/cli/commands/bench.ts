import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BenchConfig } from '../../config/bench-options.js';
import { BENCH_OPTIONS } from '../../config/bench-options.js';
import { loadConfig } from '../../config/load-config.js';
import { SkiffError } from '../../core/errors.js';
import { readRegularFileSync } from '../../host/regular-file.js';
import type { ImageFile } from '../../loadgen/bench-target.js';
import { prepareTarget } from '../../loadgen/bench-target.js';
import { formatReport } from '../../loadgen/format-report.js';
import { HttpClient } from '../../loadgen/http-client.js';
import type { BenchPlan } from '../../loadgen/run-bench.js';
import { runBench } from '../../loadgen/run-bench.js';
import { renderHelp } from '../help.js';
import { parseFlags } from '../parse-flags.js';
import type { CommandIo } from './serve.js';

export const BENCH_HELP = renderHelp(
  'skiff bench [options]',
  'Load a running server and print throughput and latency per step: req/s, p50/p90/p99/max, errors.\nClosed loop (--concurrency sweep) or open loop (--rate); with --model-file, ONNX Runtime alone on the same\nmodel and threads is measured first, and each step shows its ratio to it. Progress goes to stderr on a terminal.',
  BENCH_OPTIONS,
  'Exit code: 0; 2 when every request failed; 1 for bad options or when requests cannot be prepared (v2 metadata unreadable).\n\nExamples:\n  skiff bench --image dog.jpg -c 1,2,4,8 -d 10\n  skiff bench --protocol v2 --model resnet50 --rate 10,20,40 --json > result.json\n  skiff bench --image dog.jpg -c 8 --model-file resnet50.onnx --threads 2   # vs the engine alone',
  'flags',
);

/** Reads and checks the flags; throws SKIFF_CONFIG_INVALID for a bad value or a contradiction. */
export function readBenchConfig(argv: readonly string[]): { help: boolean; config: Readonly<BenchConfig> } {
  const flags = parseFlags(BENCH_OPTIONS, argv);
  if (flags.configFile !== undefined)
    throw new SkiffError('SKIFF_CONFIG_INVALID', 'skiff bench takes flags only, not --config-file');
  const config = loadConfig(BENCH_OPTIONS, { flags: flags.values, env: {} });
  if (flags.values.rate !== undefined && flags.values.concurrency !== undefined)
    throw new SkiffError(
      'SKIFF_CONFIG_INVALID',
      'give either --concurrency (closed loop) or --rate (open loop), not both',
    );
  if (config.protocol === 'v2' && config.image !== undefined)
    throw new SkiffError(
      'SKIFF_CONFIG_INVALID',
      '--image goes with --protocol predict; v2 requests carry tensors built from the model metadata',
    );
  if (flags.values.duration !== undefined && config.requests !== undefined)
    throw new SkiffError('SKIFF_CONFIG_INVALID', 'give either --duration or --requests, not both');
  return { help: flags.help, config };
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
  const client = new HttpClient(config.url, sockets, config.timeout * 1000);
  try {
    const target = await prepareTarget(client, {
      protocol: config.protocol,
      model: config.model,
      images,
      imageSize: config.imageSize,
      inputData: config.inputData,
      binaryData: config.binaryData,
    }).catch((error: unknown) => {
      throw new SkiffError(
        'SKIFF_CONFIG_INVALID',
        `cannot prepare requests for ${config.url}: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
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
    client.close();
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
