import { Worker } from 'node:worker_threads';
import type { RequestLimits } from '../../core/request/request-limits.js';
import type { Logger } from '../../core/logger.js';
import type { DecodeJob, DecodeResults, JobOf, ProtobufDecoder } from './decode-job.js';
import type { ErrorCode } from '../../core/errors.js';
import { ERROR_CODES, SkiffError } from '../../core/errors.js';
import { endReason } from '../../core/request/request-context.js';
import { runDecodeJob } from './decode-job.js';
import { rawContentsBytes } from '../grpc/model-infer-scan.js';
import { transferablesOf } from './transferables.js';

export interface DecodePoolOptions {
  readonly limits: RequestLimits;
  readonly logger: Logger;
  /** Bodies smaller than this are decoded on the event loop: a hop to the worker would cost more. */
  readonly inlineBelowBytes: number;
  /** Heap a decode worker may use; a body that needs more fails (413) and the worker is replaced. */
  readonly memoryMb: number;
  /**
   * Bytes of the bodies waiting for the worker, together: a body that would take them past it gets a fast 503.
   * Each holds its whole body meanwhile; a body alone over it may still wait when nothing else does.
   */
  readonly maxWaitingBytes: number;
}

interface Pending {
  readonly id: number;
  readonly job: DecodeJob;
  readonly bytes: number;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort?: () => void;
}

type FromDecoder =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: { readonly code: string; readonly message: string } };

/**
 * Where request bodies become tensors. JSON.parse of a 20 MB body takes the event loop ~150 ms, and a
 * protobuf message of millions of small elements seconds: large bodies go to a worker thread instead, whose
 * heap is capped, so that a body built to exhaust memory costs the worker (replaced) and not the server.
 * One job at a time, FIFO; the body moves to the worker and the tensors back without copies where they can.
 */
export class DecodePool {
  private worker: Worker | undefined;
  private readonly waiting: Pending[] = [];
  private waitingBytes = 0;
  private current: Pending | undefined;
  private nextId = 1;
  private closed = false;
  private protobuf: ProtobufDecoder = () => {
    throw new SkiffError('SKIFF_INTERNAL', 'no protobuf decoder: gRPC is not being served');
  };

  constructor(private readonly options: DecodePoolOptions) {}

  /** The gRPC adapter's deserializer, for ModelInfer messages small enough to decode inline. */
  useProtobuf(decoder: ProtobufDecoder): void {
    this.protobuf = decoder;
  }

  /**
   * The job's tensors. Once `signal` (its request's) aborts, a job still waiting for the worker leaves at once,
   * rejected with the request's end: a client that left does not keep the decoder busy, nor its body held.
   */
  async decode<K extends DecodeJob['kind']>(job: JobOf<K>, signal?: AbortSignal): Promise<DecodeResults[K]> {
    if (signal?.aborted === true) throw endReason(signal);
    if (this.inline(job)) return runDecodeJob(job, this.options.limits, this.protobuf);
    if (this.closed) throw new SkiffError('SKIFF_SHUTTING_DOWN', 'the server is shutting down');
    const bytes = bodyBytes(job);
    if (this.waiting.length > 0 && this.waitingBytes + bytes > this.options.maxWaitingBytes) {
      const mib = (this.waitingBytes / 2 ** 20).toFixed(1);
      throw new SkiffError(
        'SKIFF_DECODE_BUSY',
        `${this.waiting.length} large bodies (${mib} MiB) are already waiting to be decoded; retry shortly`,
      );
    }
    return new Promise<DecodeResults[K]>((resolve, reject) => {
      const pending: Pending = {
        id: this.nextId++,
        job,
        bytes,
        resolve: resolve as (result: unknown) => void,
        reject,
        signal,
      };
      if (signal !== undefined) {
        pending.onAbort = () => {
          const at = this.waiting.indexOf(pending);
          if (at === -1) return;
          this.waiting.splice(at, 1);
          this.waitingBytes -= pending.bytes;
          reject(endReason(signal));
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.waiting.push(pending);
      this.waitingBytes += bytes;
      this.next();
    });
  }

  /**
   * Small bodies, and binary-extension bodies whose JSON header is small, and ModelInfer messages whose part
   * outside raw_input_contents is small: their tensor data is only copied once into an aligned buffer (a ResNet50
   * input in ~0.1 ms), far less than the hop to the worker and back, and at c=8 such bodies would otherwise
   * queue for the one decoder, one after another. Handed to the model in the turn they were read, these reach a
   * worker sooner than the event loop may read their client's leaving in a burst: the worker waits for
   * the loop to have polled before it runs any job (onnx-worker.ts, untilPolled), without which ModelInfer
   * messages could not be inlined (the abandoned-work attack ran 2 of 64 cancelled calls in 2 of 10 runs).
   */
  private inline(job: DecodeJob): boolean {
    const { inlineBelowBytes } = this.options;
    const length = bodyBytes(job);
    if (length < inlineBelowBytes) return true;
    if (length > INLINE_BINARY_MAX_BYTES) return false;
    if (job.kind === 'grpc-infer') return length - rawContentsBytes(job.body) < inlineBelowBytes;
    return job.kind === 'oip' && job.headerLength !== undefined && job.headerLength < inlineBelowBytes;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waitingBytes = 0;
    for (const pending of this.waiting.splice(0)) {
      forget(pending);
      pending.reject(new SkiffError('SKIFF_SHUTTING_DOWN', 'the server is shutting down'));
    }
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private next(): void {
    if (this.current !== undefined || this.closed) return;
    const pending = this.waiting.shift();
    if (pending === undefined) return;
    this.waitingBytes -= pending.bytes;
    forget(pending);
    this.current = pending;
    const worker = this.worker ?? this.spawn();
    // Kept alive only while it works: an idle decoder must not hold a closing process open.
    worker.ref();
    const body = exclusive(pending.job.body);
    const binary =
      pending.job.kind === 'oip' && pending.job.binary !== undefined
        ? exclusive(pending.job.binary)
        : undefined;
    worker.postMessage(
      { id: pending.id, job: { ...pending.job, body, ...(binary === undefined ? {} : { binary }) } },
      [body.buffer as ArrayBuffer, ...(binary === undefined ? [] : [binary.buffer as ArrayBuffer])],
    );
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('./decode-worker.js', import.meta.url), {
      workerData: { limits: this.options.limits },
      resourceLimits: {
        maxOldGenerationSizeMb: this.options.memoryMb,
        maxYoungGenerationSizeMb: Math.max(16, Math.floor(this.options.memoryMb / 8)),
      },
    });
    worker.unref();
    worker.on('message', (message: FromDecoder) => {
      const pending = this.current;
      if (pending?.id !== message.id) return;
      this.current = undefined;
      worker.unref();
      if ('result' in message) pending.resolve(message.result);
      else pending.reject(fromWorker(message.error));
      this.next();
    });
    worker.on('error', (error: Error & { code?: string }) => {
      this.options.logger.warn('decode worker failed', { error: error.message, code: error.code });
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      const pending = this.current;
      this.current = undefined;
      pending?.reject(
        new SkiffError(
          'SKIFF_BODY_TOO_LARGE',
          'decoding this request body needs more memory than the decoder may use (--decode-memory-mb); send a smaller or simpler body',
        ),
      );
      this.next();
    });
    this.worker = worker;
    return worker;
  }
}

/** What a job holds while it waits: its body, and its binary tensor data for an OIP binary-extension body. */
function bodyBytes(job: DecodeJob): number {
  return job.body.byteLength + (job.kind === 'oip' ? (job.binary?.byteLength ?? 0) : 0);
}

/** A job leaving the queue no longer listens for its request's end. */
function forget(pending: Pending): void {
  if (pending.onAbort !== undefined) pending.signal?.removeEventListener('abort', pending.onAbort);
}

/** Binary tensor data decoded inline at most: a copy of this many bytes takes about a millisecond. */
const INLINE_BINARY_MAX_BYTES = 4 * 1024 * 1024;

/** A view that owns its whole buffer can be moved to the worker; anything else is copied first. */
function exclusive(bytes: Uint8Array): Uint8Array {
  if (
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
  )
    return bytes;
  return Uint8Array.prototype.slice.call(bytes);
}

function fromWorker(error: { readonly code: string; readonly message: string }): SkiffError {
  const code = Object.hasOwn(ERROR_CODES, error.code) ? (error.code as ErrorCode) : 'SKIFF_INTERNAL';
  return new SkiffError(code, error.message);
}

export { transferablesOf };
