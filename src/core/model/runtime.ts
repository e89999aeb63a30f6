import type { Tensor, TensorInfo } from '../tensor/tensor.js';
import type { ImageHeader } from '../preprocess/image-codec.js';
import type { ImageInputContract } from './model-config.js';

export interface RuntimeLoadOptions {
  /** Worker instances serving this model; each holds its own copy of the weights. */
  readonly workers: number;
  /** Intra-op threads inside each worker. */
  readonly threadsPerWorker: number;
}

/**
 * A backend that turns a model file into something that runs. Called once per model at start-up (and on
 * reload); may take seconds. Throws SkiffError SKIFF_MODEL_LOAD_FAILED when the file is not a loadable model,
 * SKIFF_MODEL_FILE_MISSING when it is not a regular file. When `signal` aborts, rejects with its reason at
 * once and releases what it started (threads stuck in native code end when they can).
 */
export interface Runtime {
  readonly name: string;
  load(modelPath: string, options: RuntimeLoadOptions, signal?: AbortSignal): Promise<LoadedModel>;
}

/** Milliseconds a runtime's slowest instance spent creating its session and on its warm-up inference. */
export interface InstanceLoadTimings {
  readonly sessionCreateMs: number;
  readonly warmUpMs: number;
}

/**
 * A runtime may put on the outputs it returns, under this key, how long the inference itself took (ms): with
 * requests held inside the runtime (LoadedModel.concurrency above one per instance), the time from handing a
 * request over to its answer also counts its wait there, which belongs to the queue, not to the compute.
 */
export const RUN_MS: unique symbol = Symbol('skiff.runMs');

/** The inference time a runtime put on its outputs (RUN_MS), if it did. */
export function runMsOf(outputs: object): number | undefined {
  const value = (outputs as { [RUN_MS]?: unknown })[RUN_MS];
  return typeof value === 'number' ? value : undefined;
}

/** An upload still in its file format, with what its header said (read by the caller's ImageCodec.probe). */
export interface EncodedImage {
  readonly bytes: Uint8Array;
  readonly header: ImageHeader;
  /** Refused past this many pixels (SKIFF_IMAGE_TOO_LARGE) before its pixels are decoded. */
  readonly maxPixels: number;
}

/**
 * A model ready to run. `infer` is called concurrently from many requests; the implementation must never
 * block the caller's event loop for the length of an inference. Every input tensor carries the batch as
 * its first dimension. Throws SkiffError SKIFF_BAD_TENSOR for inputs the model rejects, SKIFF_WORKER_CRASHED
 * when the process serving the call died (other calls are unaffected), SKIFF_INFERENCE_FAILED otherwise.
 */
export interface LoadedModel {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /**
   * True when every instance already ran one inference while loading, so the first request pays no lazy
   * initialisation and the caller need not run a warm-up of its own.
   */
  readonly warmedUp?: boolean;
  /**
   * The runtime's own measure of creating its instances and warming them up (the slowest instance), when it
   * has one. With preloading this work overlaps the rest of start-up, so the caller's wait can be far shorter.
   */
  readonly loadTimings?: InstanceLoadTimings | undefined;
  /**
   * Requests it takes at once (default: one per worker). More lets each instance prepare the next requests
   * (decode their images) while it runs one; the scheduler hands over this many when it does not batch.
   */
  readonly concurrency?: number;
  /**
   * Optional: requests it takes right now, each started or held by an instance at once: never more than
   * `concurrency`, fewer while an instance is busy or being replaced. Read by the scheduler on the event loop
   * before every hand-over; it hands over no more (a call beyond fails with SKIFF_INTERNAL), so requests wait
   * in its queue only, where cancellation, queue timeouts and limits apply. A model that can serve nothing any
   * more says Infinity: what it is handed then fails at once. Absent: `concurrency` at all times.
   */
  readonly available?: number;
  /**
   * Optional, with `available`: `listener` is called on the event loop whenever `available` grows other than
   * by one of its calls settling (an instance that replaced a crashed one is ready). Called once, by the
   * scheduler; a later call replaces the listener.
   */
  onAvailable?(listener: () => void): void;
  /**
   * Runs the model on tensors. Once `signal` aborts, the inputs are not run if their run has not started (the
   * call then rejects with SKIFF_CANCELLED); a runtime may ignore it.
   */
  infer(
    inputs: Readonly<Record<string, Tensor>>,
    outputNames?: readonly string[],
    signal?: AbortSignal,
  ): Promise<Record<string, Tensor>>;
  /**
   * Optional: decodes one encoded image where the model runs (its worker thread), brings it to `input`'s size,
   * layout and element type, and runs the model on it as a batch of one, so the caller's event loop never
   * touches a pixel. Called by the scheduler, concurrently, once the image's queue place and decoding budget
   * are taken. Once `signal` aborts, the image is neither decoded nor run if neither has started (the call then
   * rejects with SKIFF_CANCELLED). Throws what `ImageCodec.decode` throws (SKIFF_UNDECODABLE_IMAGE,
   * SKIFF_IMAGE_TOO_LARGE), and what `infer` throws. A runtime without it gets tensors packed by the caller.
   */
  inferImage?(
    image: EncodedImage,
    input: ImageInputContract,
    outputNames: readonly string[] | undefined,
    signal?: AbortSignal,
  ): Promise<Record<string, Tensor>>;
  /** Releases the workers; pending calls fail with SKIFF_SHUTTING_DOWN. */
  close(): Promise<void>;
}
