import './without-float16-array.js';
import ort from 'onnxruntime-node';
import { latencyStats } from '../../stats/latency-stats.js';
import type { EngineFigure } from '../../stats/engine-figure.js';
import { statRegularFile } from '../../host/regular-file.js';

export interface EngineBenchOptions {
  readonly modelPath: string;
  /** intra-op threads; the server's total (workers x threads per worker) for a fair comparison. */
  readonly threads: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/**
 * ONNX Runtime alone, in this process: one session with the server workers' options (no spinning), batch-1
 * random inputs, one run after another. This is the ceiling the server's end-to-end figure is measured
 * against: no HTTP, no decoding, no queue.
 */
export async function measureEngine(options: EngineBenchOptions): Promise<EngineFigure> {
  // ONNX Runtime opening a FIFO would block this thread, and so the process, for ever.
  await statRegularFile(options.modelPath, { code: 'SKIFF_MODEL_FILE_MISSING', what: 'model file' });
  const session = await ort.InferenceSession.create(options.modelPath, {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
  try {
    const feeds = Object.fromEntries(session.inputMetadata.map((m) => [m.name, randomTensor(m)]));
    const runFor = async (ms: number): Promise<number[]> => {
      const times: number[] = [];
      const deadline = performance.now() + ms;
      do {
        const t0 = performance.now();
        await session.run(feeds);
        times.push(performance.now() - t0);
      } while (performance.now() < deadline);
      return times;
    };
    await runFor(options.warmupMs);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const times = await runFor(options.durationMs);
    const elapsedMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return {
      threads: options.threads,
      runs: times.length,
      perSecond: (times.length * 1000) / elapsedMs,
      latency: latencyStats(times),
      cpuMsPerRun: (used.user + used.system) / 1000 / times.length,
    };
  } finally {
    await session.release();
  }
}

function randomTensor(metadata: ort.InferenceSession.ValueMetadata): ort.Tensor {
  if (!metadata.isTensor) throw new Error(`input "${metadata.name}" is not a tensor`);
  const dims = metadata.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const count = dims.reduce((n, d) => n * d, 1);
  switch (metadata.type) {
    case 'float32':
      return new ort.Tensor(
        'float32',
        Float32Array.from({ length: count }, () => Math.random()),
        dims,
      );
    case 'float64':
      return new ort.Tensor(
        'float64',
        Float64Array.from({ length: count }, () => Math.random()),
        dims,
      );
    case 'uint8':
      return new ort.Tensor(
        'uint8',
        Uint8Array.from({ length: count }, () => Math.floor(Math.random() * 256)),
        dims,
      );
    case 'int8':
      return new ort.Tensor(
        'int8',
        Int8Array.from({ length: count }, () => Math.floor(Math.random() * 128)),
        dims,
      );
    case 'int32':
      return new ort.Tensor(
        'int32',
        Int32Array.from({ length: count }, () => Math.floor(Math.random() * 128)),
        dims,
      );
    case 'int64':
      return new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: count }, () => BigInt(Math.floor(Math.random() * 128))),
        dims,
      );
    default:
      throw new Error(
        `input "${metadata.name}" is ${metadata.type}: the engine benchmark generates float, uint8, int8, int32 and int64 inputs`,
      );
  }
}
