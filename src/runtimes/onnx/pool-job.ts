import type { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WireTensor } from './worker-messages.js';
import type { EncodedImage } from '../../core/model/runtime.js';
import { RUN_MS } from '../../core/model/runtime.js';
import type { ImageInputContract } from '../../core/model/model-config.js';
import { SkiffError } from '../../core/errors.js';
import type { ErrorCode } from '../../core/errors.js';

/** What a job asks of its worker: the 'run' or 'run-image' message without its id, and what it transfers. */
export type JobWork =
  | {
      readonly kind: 'run';
      readonly inputs: Record<string, WireTensor>;
      readonly outputNames: readonly string[] | undefined;
    }
  | {
      readonly kind: 'run-image';
      readonly image: EncodedImage;
      readonly input: ImageInputContract;
      readonly outputNames: readonly string[] | undefined;
    };

/** One call on the pool, from the moment it is sent to a worker until that worker answers or is gone. */
export interface Job {
  readonly id: number;
  /** Its place in its worker's sequence: where the worker looks for its cancellation mark (SeqMarks). */
  readonly seq: number;
  readonly work: JobWork;
  readonly resolve: (outputs: Record<string, WireTensor>) => void;
  readonly reject: (error: SkiffError) => void;
  /** Its request's end (client gone, deadline): its worker is told, and skips what it has not begun. */
  readonly signal: AbortSignal | undefined;
  onAbort?: () => void;
}

/** What clients read of a failed run (the runtime's own text goes to the log only). */
const PUBLIC_MESSAGES: Partial<Record<ErrorCode, string>> = {
  SKIFF_INFERENCE_FAILED:
    'the model failed on these inputs: ONNX Runtime refused them (often a dynamic dimension the graph cannot take)',
  SKIFF_WORKER_CRASHED:
    'the inference worker running this request crashed; it has been replaced, retry the request',
};

/** Posts a job to its worker. */
export function sendJob(worker: Worker, job: Job): void {
  const work = job.work;
  if (work.kind === 'run') {
    const message: ToWorker = {
      kind: 'run',
      id: job.id,
      seq: job.seq,
      inputs: work.inputs,
      outputNames: work.outputNames,
    };
    worker.postMessage(message, transferables(work.inputs));
    return;
  }
  // A copy of the file's bytes moves to the worker: the upload may be a view into a larger body.
  const bytes = Uint8Array.prototype.slice.call(work.image.bytes);
  const message: ToWorker = {
    kind: 'run-image',
    id: job.id,
    seq: job.seq,
    image: { ...work.image, bytes },
    input: work.input,
    outputNames: work.outputNames,
  };
  worker.postMessage(message, [bytes.buffer]);
}

/** Settles a job with its worker's answer. */
export function answerJob(job: Job, message: Extract<FromWorker, { kind: 'result' | 'failed' }>): void {
  stopWatching(job);
  if (message.kind === 'result') {
    job.resolve(withRunMs(message.outputs, message.runMs));
    return;
  }
  const text =
    message.code === 'SKIFF_INFERENCE_FAILED' ? `ONNX Runtime: ${message.message}` : message.message;
  job.reject(new SkiffError(message.code, text, { publicMessage: PUBLIC_MESSAGES[message.code] }));
}

/** Fails a job that will get no answer: its worker is gone, or is being let go. */
export function failJob(job: Job, error: SkiffError): void {
  stopWatching(job);
  job.reject(error);
}

function stopWatching(job: Job): void {
  if (job.onAbort !== undefined) job.signal?.removeEventListener('abort', job.onAbort);
}

/** What each job a crashed worker held is failed with. */
export function workerCrashed(exitCode: number): SkiffError {
  return new SkiffError(
    'SKIFF_WORKER_CRASHED',
    `the inference worker running this request crashed; it has been replaced, retry the request (exit code ${exitCode})`,
    { publicMessage: PUBLIC_MESSAGES.SKIFF_WORKER_CRASHED },
  );
}

/** The worker's own measure of the inference, for the scheduler's compute time (RUN_MS). */
function withRunMs(
  outputs: Record<string, WireTensor>,
  runMs: number | undefined,
): Record<string, WireTensor> {
  if (runMs !== undefined) Object.defineProperty(outputs, RUN_MS, { value: runMs, enumerable: false });
  return outputs;
}

/** Buffers that belong wholly to one tensor move to the worker without a copy; shared ones are copied. */
function transferables(inputs: Record<string, WireTensor>): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const tensor of Object.values(inputs)) {
    const data = tensor.data;
    if (Array.isArray(data)) continue;
    const buffer = data.buffer;
    if (
      buffer instanceof ArrayBuffer &&
      data.byteOffset === 0 &&
      data.byteLength === buffer.byteLength &&
      !list.includes(buffer)
    ) {
      list.push(buffer);
    }
  }
  return list;
}
