import type {
  EncodedImage,
  InstanceLoadTimings,
  LoadedModel,
  Runtime,
  RuntimeLoadOptions,
} from '../model/runtime.js';
import type { ImageInputContract, ModelConfigFile } from '../model/model-config.js';
import type { Labels } from '../model/labels.js';
import type { ContractResolution } from '../model/resolve-image-contract.js';
import type { Tensor, TensorInfo } from '../tensor/tensor.js';
import { resolveImageContract } from '../model/resolve-image-contract.js';
import { imagesToTensor } from '../preprocess/image-to-tensor.js';
import { Scheduler } from '../batching/scheduler.js';
import type { Reservation } from '../batching/scheduler.js';
import type { RequestContext } from '../request/request-context.js';
import { SkiffError } from '../errors.js';
import type { InferenceObserver } from '../inference-observer.js';
import type { StartupRecorder } from '../startup-recorder.js';
import { NO_OBSERVER } from '../inference-observer.js';
import { zeroTensor } from '../tensor/raw-tensor.js';
import { publicFailureReason } from './public-reason.js';

export type ModelState = 'loading' | 'warming-up' | 'ready' | 'failed' | 'unloading';

export interface ServedModelSpec {
  readonly name: string;
  /** Version label in every API; "1" for a model served without a repository. */
  readonly version?: string | undefined;
  readonly modelPath: string;
  readonly config: ModelConfigFile;
  readonly labels: Labels | undefined;
  readonly runtimeOptions: RuntimeLoadOptions;
  readonly maxQueueSize: number;
  /** Longest load() may take, warm-up included; unset: no limit. */
  readonly loadTimeoutMs?: number | undefined;
  readonly observer?: InferenceObserver | undefined;
  /** Told when the session is created and the model warmed up, while the server is starting. */
  readonly startup?: StartupRecorder | undefined;
}

export interface LoadTimings {
  /** How long load() waited for the runtime to hand over the model. */
  readonly sessionCreateMs: number;
  /** How long load() ran its own warm-up (0 when the runtime warmed its instances while loading). */
  readonly warmUpMs: number;
  /** The runtime's own measure of the same work, which may have overlapped other start-up work. */
  readonly inRuntime?: InstanceLoadTimings | undefined;
}

/** Dynamic batching as the scheduler applies it (Triton's dynamic_batching). */
export interface BatchingInUse {
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  readonly preferredBatchSizes: readonly number[];
}

/** One model as the server sees it: its state (and why), the loaded instance, and how images map onto it. */
export class ServedModel {
  state: ModelState = 'loading';
  /** Why the model is not ready, in words fit for any client: no paths, no runtime text. */
  reason = 'loading the model';
  /** What made the load fail, whole, for the server log and the local CLI; never sent to clients. */
  failure: unknown;
  classifier: ContractResolution = { ok: false, reason: 'the model is not loaded yet' };
  timings: LoadTimings | undefined;
  /** The dynamic batching the scheduler does for this model, once loaded; undefined when it batches nothing. */
  batching: BatchingInUse | undefined;
  private loaded: LoadedModel | undefined;
  private scheduler: Scheduler | undefined;
  private loadAbort: AbortController | undefined;

  constructor(readonly spec: ServedModelSpec) {}

  get name(): string {
    return this.spec.name;
  }

  get version(): string {
    return this.spec.version ?? '1';
  }

  get platform(): string {
    return 'onnxruntime_onnx';
  }

  get inputs(): readonly TensorInfo[] {
    return this.loaded?.inputs ?? [];
  }

  get outputs(): readonly TensorInfo[] {
    return this.loaded?.outputs ?? [];
  }

  /**
   * Takes a place in the model's queue before a request prepares its inputs (decodes an image), so work is
   * only done for requests the model will take. Throws SKIFF_MODEL_NOT_READY, SKIFF_QUEUE_FULL.
   */
  reserve(): Reservation {
    if (this.scheduler === undefined || this.state !== 'ready')
      throw new SkiffError('SKIFF_MODEL_NOT_READY', `model "${this.name}" is not ready (${this.state})`);
    return this.scheduler.reserve();
  }

  /** A request submitted now would be refused at once (the adapters check before reading a body). */
  get full(): boolean {
    return this.scheduler?.full === true;
  }

  /** model.json's batching.maxQueueSize, else the server's --max-queue-size. */
  get maxQueueSize(): number {
    return this.spec.config.batching?.maxQueueSize ?? this.spec.maxQueueSize;
  }

  get queueDepth(): { readonly inFlight: number; readonly queued: number } {
    return { inFlight: this.scheduler?.inFlight ?? 0, queued: this.scheduler?.queued ?? 0 };
  }

  /**
   * Loads the model, checks its image contract, and runs one inference per worker so the first real
   * request does not pay for lazy initialisation; only then is the model ready. Throws what the runtime
   * or the contract check throws, with the state left at 'failed' and the reason set. Gives up, and tells
   * the runtime to stop, once the spec's `loadTimeoutMs` has passed (SKIFF_MODEL_LOAD_FAILED), when `signal`
   * aborts (with its reason) or when unload() is called.
   */
  async load(runtime: Runtime, now: () => number, signal?: AbortSignal): Promise<void> {
    const abort = new AbortController();
    this.loadAbort = abort;
    const forward = (): void => abort.abort(signal?.reason);
    if (signal?.aborted === true) forward();
    else signal?.addEventListener('abort', forward, { once: true });
    const timeoutMs = this.spec.loadTimeoutMs;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            const message = `the model did not finish loading within ${timeoutMs} ms; if it is only slow, raise --model-load-timeout-ms`;
            // Our own words, with no path or runtime text: clients may read it as it is.
            abort.abort(new SkiffError('SKIFF_MODEL_LOAD_FAILED', message, { publicMessage: message }));
          }, timeoutMs);
    try {
      const started = now();
      // A runtime stuck in native code may never settle: the abort decides, whatever it does.
      const loaded = await untilAborted(
        runtime.load(this.spec.modelPath, this.spec.runtimeOptions, abort.signal),
        abort.signal,
        (late) => void late.close().catch(() => undefined),
      );
      this.loaded = loaded;
      const sessionCreateMs = now() - started;
      this.spec.startup?.mark('session_create');
      this.classifier = resolveImageContract(
        loaded.inputs,
        loaded.outputs,
        this.spec.config,
        this.spec.labels,
      );
      const batching = this.spec.config.batching;
      const batchable = loaded.inputs.every((input) => (input.shape[0] ?? 0) < 0);
      const batches = batching?.maxBatchSize !== undefined && batching.maxBatchSize > 1 && batchable;
      const instances = this.spec.runtimeOptions.workers;
      const schedulerOptions = {
        maxQueueSize: this.maxQueueSize,
        // Dynamic batching merges what waits in the queue, and a queue timeout refuses what has not started
        // in time: both need requests to wait here, so each instance is handed one request at a time.
        concurrency:
          batches || (batching?.queueTimeoutMs ?? 0) > 0
            ? instances
            : Math.max(instances, loaded.concurrency ?? instances),
        instances,
        queueTimeoutMs: this.spec.config.batching?.queueTimeoutMs ?? 0,
        observer: this.spec.observer ?? NO_OBSERVER,
        model: this.spec.name,
        version: this.version,
      };
      this.batching = batches
        ? {
            maxBatchSize: batching.maxBatchSize,
            maxQueueDelayMs: batching.maxQueueDelayMs ?? 0,
            preferredBatchSizes: batching.preferredBatchSizes ?? [],
          }
        : undefined;
      const scheduler = new Scheduler(loaded, schedulerOptions, this.batching);
      this.scheduler = scheduler;
      this.state = 'warming-up';
      this.reason = 'running the warm-up inference';
      const warmStart = now();
      // A runtime that warmed every instance while loading (off the caller's critical path) needs no more.
      if (loaded.warmedUp !== true) {
        const warmUps = Array.from({ length: this.spec.runtimeOptions.workers }, () =>
          // Warm-up may be slow (first-run allocations); the request timeout is for requests.
          scheduler.submit(this.warmUpInputs(), undefined, { warmUp: true }),
        );
        await untilAborted(Promise.all(warmUps), abort.signal);
      }
      this.timings = {
        sessionCreateMs,
        warmUpMs: now() - warmStart,
        ...(loaded.loadTimings === undefined ? {} : { inRuntime: loaded.loadTimings }),
      };
      this.spec.startup?.mark('warm_up');
      if (loaded.loadTimings !== undefined) this.spec.startup?.workersLoaded(loaded.loadTimings);
      this.state = 'ready';
      this.reason = 'ready';
    } catch (error) {
      this.state = 'failed';
      this.failure = error;
      this.reason = publicFailureReason(error);
      const loaded = this.loaded;
      this.loaded = undefined;
      this.scheduler = undefined;
      // A warm-up given up on may never end, and close() lets running work finish: the failure cannot wait.
      if (abort.signal.aborted) void loaded?.close().catch(() => undefined);
      else await loaded?.close();
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
      if (this.loadAbort === abort) this.loadAbort = undefined;
    }
  }

  infer(
    inputs: Readonly<Record<string, Tensor>>,
    outputNames: readonly string[] | undefined,
    context: RequestContext,
    reservation?: Reservation,
  ): Promise<Record<string, Tensor>> {
    if (this.scheduler === undefined) {
      reservation?.release();
      return Promise.reject(new SkiffError('SKIFF_MODEL_NOT_READY', `model "${this.name}" is not loaded`));
    }
    return this.scheduler.submit(inputs, outputNames, { context, reservation });
  }

  /** Images for this model may go to it undecoded (the runtime decodes them; no dynamic batching merges them). */
  get decodesImages(): boolean {
    return this.loaded?.inferImage !== undefined && this.scheduler?.batches === false;
  }

  /**
   * One image, decoded by the model's runtime when its turn comes (see `decodesImages`). `onSettled` is called
   * once its decoding and inference are over, or it left the queue without them.
   */
  inferImage(
    image: EncodedImage,
    input: ImageInputContract,
    outputNames: readonly string[] | undefined,
    options: {
      readonly context: RequestContext;
      readonly reservation: Reservation;
      readonly onSettled: () => void;
    },
  ): Promise<Record<string, Tensor>> {
    if (this.scheduler === undefined) {
      options.reservation.release();
      options.onSettled();
      return Promise.reject(new SkiffError('SKIFF_MODEL_NOT_READY', `model "${this.name}" is not loaded`));
    }
    return this.scheduler.submitImage(image, input, outputNames, options);
  }

  /**
   * Stops taking requests, lets those already accepted finish (up to `drainMs`), then releases the
   * workers, so an unload or a version swap never fails a request that was admitted.
   */
  async unload(drainMs = 30_000): Promise<void> {
    this.loadAbort?.abort(
      new SkiffError('SKIFF_MODEL_LOAD_FAILED', 'the model was unloaded while it was loading'),
    );
    this.state = 'unloading';
    this.reason = 'unloading';
    await this.scheduler?.drain(drainMs);
    await this.loaded?.close();
  }

  private warmUpInputs(): Record<string, Tensor> {
    if (this.classifier.ok) {
      const { input } = this.classifier.contract;
      const pixels = new Uint8Array(input.width * input.height * 3);
      return { [input.name]: imagesToTensor([{ width: input.width, height: input.height, pixels }], input) };
    }
    return Object.fromEntries(this.inputs.map((info) => [info.name, zeroTensor(info)]));
  }
}

/**
 * `work`, or the signal's reason as soon as it aborts, whichever comes first. What `work` still yields after
 * the abort goes to `late`, so that it can be released.
 */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal, late?: (value: T) => void): Promise<T> {
  let onAbort = (): void => undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const done = await Promise.race([work.then((value) => ({ value })), aborted]);
    if (done !== undefined) return done.value;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  work.then(
    (value) => late?.(value),
    () => undefined,
  );
  throw signal.reason;
}
