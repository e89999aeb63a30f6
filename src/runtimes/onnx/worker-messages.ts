import type { DataType, TensorData } from '../../core/tensor/data-type.js';
import type { TensorInfo } from '../../core/tensor/tensor.js';
import type { ErrorCode } from '../../core/errors.js';
import type { EncodedImage } from '../../core/model/runtime.js';
import type { ImageInputContract } from '../../core/model/model-config.js';

/** What crosses the thread boundary; typed arrays are transferred, not copied, where they own their buffer. */
export interface WireTensor {
  readonly type: DataType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export interface WorkerInit {
  readonly modelPath: string;
  readonly threads: number;
  /** Where ORT's optimized graph of this model is kept between starts; absent when not cached. */
  readonly optimizedGraph?: { readonly file: string; readonly siblingPrefix: string };
  /**
   * A module whose `createImageCodec()` returns the ImageCodec the worker decodes uploads with ('run-image');
   * absent: the worker takes tensors only. Named by the composition root, so runtimes need not import each other.
   */
  readonly imageCodecModule?: string;
  /**
   * With imageCodecModule: a module whose `createSyncImageDecoder()` gives the worker a decoder of its own, for an
   * upload that finds it idle (nothing held): decoded on this thread, it skips the hand-over to the image thread and
   * back, two thread wake-ups (0.3-0.5 ms on the bench's machine).
   */
  readonly imageDecoderModule?: string;
}

/**
 * What the pool adds to each worker's workerData: Int32 marks in shared memory (SeqMarks), written by the pool
 * and read by the worker between two runs, when it is deaf to messages.
 */
export interface WorkerSlotData {
  /** A job whose request ended has its seq marked: the worker neither decodes nor runs it. */
  readonly cancelled: SharedArrayBuffer;
  /**
   * A job has its seq marked once the pool's event loop has polled its sockets since the job was handed over,
   * and so has read every client that left before that. A job that waited behind another starts only then.
   */
  readonly polled: SharedArrayBuffer;
}

/**
 * What a worker did with the optimized-graph cache: started from the saved graph, saved a new one
 * (first start of this model on this CPU), or neither (no cache, or saving failed: `detail` says why).
 */
export interface OptimizedGraphOutcome {
  readonly outcome: 'read' | 'written' | 'not cached';
  readonly detail?: string;
}

export type ToWorker =
  | {
      readonly kind: 'run';
      readonly id: number;
      /** This job's place in the worker's sequence, where its cancellation mark is looked for. */
      readonly seq: number;
      readonly inputs: Record<string, WireTensor>;
      readonly outputNames: readonly string[] | undefined;
    }
  | {
      /** Decode the image, bring it to `input`'s size and layout, then run it as one batch of one. */
      readonly kind: 'run-image';
      readonly id: number;
      readonly seq: number;
      readonly image: EncodedImage;
      readonly input: ImageInputContract;
      readonly outputNames: readonly string[] | undefined;
    }
  /**
   * End the thread as soon as it is back in JavaScript. Terminating a worker from outside while it is inside a
   * native ONNX Runtime call aborts the whole process once the call returns; a message waits for that instead.
   */
  | { readonly kind: 'exit' };

export type FromWorker =
  | {
      readonly kind: 'ready';
      readonly inputs: TensorInfo[];
      readonly outputs: TensorInfo[];
      readonly optimizedGraph: OptimizedGraphOutcome;
      /** The worker ran one inference on zeros before saying it is ready. */
      readonly warmedUp: boolean;
      /** Milliseconds the worker spent creating its session, and on its warm-up inference. */
      readonly sessionCreateMs: number;
      readonly warmUpMs: number;
    }
  | { readonly kind: 'load-failed'; readonly message: string }
  | {
      readonly kind: 'result';
      readonly id: number;
      readonly outputs: Record<string, WireTensor>;
      /** How long session.run took, ms: without the job's wait behind others held by the worker. */
      readonly runMs?: number;
    }
  | { readonly kind: 'failed'; readonly id: number; readonly code: ErrorCode; readonly message: string };

/** A job's answer when it is not run or its run failed. */
export type JobFailure = Extract<FromWorker, { kind: 'failed' }>;

/** The client's words for an input that does not fit its model (a bad tensor is the client's mistake). */
export function badTensor(id: number): JobFailure {
  const message = 'an input tensor does not fit its declared type and shape';
  return { kind: 'failed', id, code: 'SKIFF_BAD_TENSOR', message };
}

/** An image packed as the model's input: the element types image inputs take. */
export type PackedData = Float32Array | Uint16Array | Uint8Array;

/** What an inference worker asks of its image thread (image-prep-worker.ts). */
export type ToImageThread =
  | {
      /** Decode the upload and pack it into `input`'s layout; answered with 'prepared' or 'failed'. */
      readonly kind: 'prepare';
      readonly id: number;
      readonly image: EncodedImage;
      readonly input: ImageInputContract;
    }
  /** A packed input the worker has run, back to be packed into again (transferred both ways). */
  | { readonly kind: 'give-back'; readonly data: PackedData };

export type FromImageThread =
  | { readonly kind: 'ready' }
  | { readonly kind: 'load-failed'; readonly message: string }
  | { readonly kind: 'prepared'; readonly id: number; readonly tensor: WireTensor }
  | JobFailure;
