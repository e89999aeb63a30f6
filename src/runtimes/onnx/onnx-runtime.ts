import path from 'node:path';
import type {
  EncodedImage,
  InstanceLoadTimings,
  LoadedModel,
  Runtime,
  RuntimeLoadOptions,
} from '../../core/model/runtime.js';
import type { ImageInputContract } from '../../core/model/model-config.js';
import type { Tensor, TensorInfo } from '../../core/tensor/tensor.js';
import type { Logger } from '../../core/logger.js';
import type { OptimizedGraphOutcome, WorkerInit } from './worker-messages.js';
import { WorkerPool } from './worker-pool.js';
import { optimizedGraphLocation } from './optimized-graph-cache.js';
import { optimizeApart } from './optimize-apart.js';
import type { ApartOutcome } from './optimize-apart.js';
import { SkiffError } from '../../core/errors.js';
import { statRegularFile } from '../../host/regular-file.js';

/**
 * Jobs a decoding worker holds: the one it runs, the next (decoded during that run) and one more, whose
 * message must already be there when the run ends for its decoding to overlap the following run: a worker
 * busy in ORT's run reads no message, and the next job is handed over only once an answer comes back.
 */
const DECODING_DEPTH = 3;

/**
 * What optimizing leaves in a worker grows with the model, about 1.5 times its size (ResNet50, 98 MB: ~145
 * MiB per worker; its int8 version, 31 MB: 42 MiB); below this size it is a few MiB, less than what starting
 * a process costs in time.
 */
export const OPTIMIZE_APART_FROM_BYTES = 8 * 1024 * 1024;

/** Runs ONNX models with onnxruntime-node (CPU) in worker threads; the addon is only ever loaded there. */
export class OnnxRuntime implements Runtime {
  readonly name = 'onnxruntime';

  constructor(
    private readonly logger: Logger,
    private readonly options: OnnxRuntimeOptions = {},
  ) {}

  async load(modelPath: string, options: RuntimeLoadOptions, signal?: AbortSignal): Promise<OnnxModel> {
    // ONNX Runtime opens the path itself, in native code no one can interrupt: a FIFO there would block it
    // (and its thread, and so the process's exit) for ever.
    const modelFile = await statRegularFile(modelPath, {
      code: 'SKIFF_MODEL_FILE_MISSING',
      what: 'model file',
      shownAs: path.basename(modelPath),
      signal,
    });
    const { imageCodecModule: codec, imageDecoderModule: decoder } = this.options;
    const base: WorkerInit = {
      modelPath,
      threads: options.threadsPerWorker,
      ...(codec === undefined ? {} : { imageCodecModule: codec }),
      ...(codec === undefined || decoder === undefined ? {} : { imageDecoderModule: decoder }),
    };
    const cache = this.cacheLocation(modelPath);
    // A first start optimizes in a process of its own; the workers then all start from the saved graph. A
    // small model leaves little behind, and the process costs time (the embedded model: 0.20-0.40 s to load
    // that way, 0.08-0.11 s by its worker): its workers do it.
    const apartFrom = this.options.optimizeApartFromBytes ?? OPTIMIZE_APART_FROM_BYTES;
    const apartStarted = performance.now();
    const apart: ApartOutcome | undefined =
      modelFile.size >= apartFrom ? await optimizeApart({ ...base, ...cache }, signal) : undefined;
    const apartMs = Math.round(performance.now() - apartStarted);
    signal?.throwIfAborted();
    if (apart?.outcome === 'failed') {
      this.logger.debug(
        `optimizing ${path.basename(modelPath)} in a process of its own failed; the workers will`,
        {
          reason: apart.detail.split(modelPath).join(path.basename(modelPath)),
        },
      );
    }
    // Another writer at it, or saving failed here: the workers optimize for themselves, saving nothing.
    const uncached =
      apart?.outcome === 'busy' || (apart?.outcome === 'not cached' && apart.detail !== undefined);
    const init: WorkerInit = uncached ? base : { ...base, ...cache };
    const pool = new WorkerPool({
      script: new URL('./onnx-worker.js', import.meta.url),
      workerData: init,
      size: options.workers,
      logger: this.logger,
      label: modelPath,
      // A worker that decodes holds two jobs beyond the one it runs: the next upload decodes during this run.
      depth: codec === undefined ? 1 : DECODING_DEPTH,
    });
    try {
      await pool.start(signal);
    } catch (error) {
      // ORT names the full path; answers over the API must not reveal the server's file layout.
      if (error instanceof SkiffError) {
        throw new SkiffError(error.code, error.message.split(modelPath).join(path.basename(modelPath)), {
          cause: error,
        });
      }
      throw error;
    }
    const saved = apart?.outcome === 'written' || apart?.outcome === 'not cached' ? apart : undefined;
    const model = codec === undefined ? new OnnxModel(pool, saved) : new DecodingOnnxModel(pool, saved);
    const graph = model.optimizedGraph;
    const name = path.basename(modelPath);
    if (graph?.outcome === 'written' && init.optimizedGraph !== undefined)
      this.logger.info(
        `saved ONNX Runtime's optimized graph of ${name}; later starts on this CPU skip optimizing`,
        {
          file: init.optimizedGraph.file,
          // The part of "session create" in the ready line that a later start does not pay.
          ...(apart?.outcome === 'written' ? { optimizedApartMs: apartMs } : {}),
        },
      );
    else if (graph?.outcome === 'read') this.logger.debug(`started ${name} from its saved optimized graph`);
    else if (graph?.detail !== undefined)
      this.logger.warn(`the optimized graph of ${name} could not be saved`, { reason: graph.detail });
    return model;
  }

  private cacheLocation(modelPath: string): Pick<WorkerInit, 'optimizedGraph'> {
    if (this.options.optimizedGraphDir === undefined) return {};
    const found = optimizedGraphLocation(modelPath, this.options.optimizedGraphDir);
    if ('reason' in found) {
      this.logger.debug(`not caching the optimized graph of ${path.basename(modelPath)}: ${found.reason}`);
      return {};
    }
    return { optimizedGraph: found.location };
  }
}

export interface OnnxRuntimeOptions {
  /**
   * A folder for ONNX Runtime's optimized graphs (optimized-graph-cache.ts); each model's graph is saved
   * on its first start and loaded, without optimizing again, on later ones. Unset: every start optimizes.
   */
  readonly optimizedGraphDir?: string | undefined;
  /**
   * Models of this many bytes and more are optimized in a process of their own on their first start
   * (optimize-apart.ts); smaller ones by their workers. Default OPTIMIZE_APART_FROM_BYTES.
   */
  readonly optimizeApartFromBytes?: number | undefined;
  /**
   * A module exporting `createImageCodec(): ImageCodec` (the URL of runtimes/sharp/sharp-image-codec.js): the
   * workers then decode uploads themselves (LoadedModel.inferImage). Unset: they take tensors only.
   */
  readonly imageCodecModule?: string | undefined;
  /**
   * With imageCodecModule: a module exporting `createSyncImageDecoder(): SyncImageDecoder | undefined` (the URL of
   * runtimes/libjpeg/libjpeg-image-decoder.js), with which a worker decodes itself an upload that finds it idle.
   */
  readonly imageDecoderModule?: string | undefined;
}

export class OnnxModel implements LoadedModel {
  constructor(
    protected readonly pool: WorkerPool,
    /** What the optimizing process did before the workers started (optimize-apart.ts), if it ran. */
    private readonly savedApart?: OptimizedGraphOutcome,
  ) {}

  /**
   * What became of the optimized-graph cache: 'written' when the graph was saved on this start (by the
   * optimizing process or a worker), else 'read' when a worker started from it, else the reason it was not
   * saved, or the first worker's outcome (undefined before any started).
   */
  get optimizedGraph(): OptimizedGraphOutcome | undefined {
    if (this.savedApart !== undefined) return this.savedApart;
    const all = this.pool.optimizedGraphs;
    return all.find((o) => o.outcome === 'written') ?? all.find((o) => o.outcome === 'read') ?? all[0];
  }

  get warmedUp(): boolean {
    return this.pool.warmedUp;
  }

  get loadTimings(): InstanceLoadTimings | undefined {
    return this.pool.loadTimings;
  }

  get inputs(): readonly TensorInfo[] {
    return this.pool.inputs;
  }

  get concurrency(): number {
    return this.pool.capacity;
  }

  get available(): number {
    return this.pool.free;
  }

  onAvailable(listener: () => void): void {
    this.pool.whenFree(listener);
  }

  get outputs(): readonly TensorInfo[] {
    return this.pool.outputs;
  }

  infer(
    inputs: Readonly<Record<string, Tensor>>,
    outputNames?: readonly string[],
    signal?: AbortSignal,
  ): Promise<Record<string, Tensor>> {
    return this.pool.run({ ...inputs }, outputNames, signal);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** A model whose workers decode uploads themselves: the event loop hands them the file's bytes. */
export class DecodingOnnxModel extends OnnxModel {
  inferImage(
    image: EncodedImage,
    input: ImageInputContract,
    outputNames: readonly string[] | undefined,
    signal?: AbortSignal,
  ): Promise<Record<string, Tensor>> {
    return this.pool.runImage(image, input, outputNames, signal);
  }
}
