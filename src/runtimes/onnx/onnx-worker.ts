// Worker thread entry: owns one InferenceSession, runs one inference at a time, so the main thread's event
// loop never waits for ORT's synchronous run.
import { closeSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import './without-float16-array.js';
import ort from 'onnxruntime-node';
import type {
  FromWorker,
  OptimizedGraphOutcome,
  ToWorker,
  WireTensor,
  WorkerInit,
  WorkerSlotData,
} from './worker-messages.js';
import type { TensorInfo } from '../../core/tensor/tensor.js';
import type { ImageCodec, RgbImage } from '../../core/preprocess/image-codec.js';
import type { ImageInputContract } from '../../core/model/model-config.js';
import { imagesToTensor } from '../../core/preprocess/image-to-tensor.js';
import { SkiffError } from '../../core/errors.js';
import type { ErrorCode } from '../../core/errors.js';
import { zeroTensor } from '../../core/tensor/raw-tensor.js';
import type { TensorData } from '../../core/tensor/data-type.js';
import { ORT_TYPE_OF, dataTypeOf } from './ort-types.js';

const port = parentPort;
if (port === null) throw new Error('onnx-worker must run in a worker thread');
const init = workerData as WorkerInit & Partial<WorkerSlotData>;
/** The pool marks here the seq of a job whose request has ended (see WorkerSlotData). */
const cancelledJobs = init.cancelled === undefined ? undefined : new Int32Array(init.cancelled);
const isCancelled = (seq: number): boolean =>
  cancelledJobs !== undefined && Atomics.load(cancelledJobs, seq % cancelledJobs.length) === seq;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

function describe(metadata: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] {
  return metadata.map((m) => {
    const type = m.isTensor ? dataTypeOf(m.type) : undefined;
    const shape = m.isTensor ? m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) : [];
    return { name: m.name, type: type ?? 'BYTES', shape };
  });
}

function toOrt(tensor: WireTensor): ort.Tensor {
  const dims = [...tensor.shape];
  if (tensor.type === 'BYTES') {
    const decoder = new TextDecoder();
    return new ort.Tensor(
      'string',
      (tensor.data as Uint8Array[]).map((b) => decoder.decode(b)),
      dims,
    );
  }
  return new ort.Tensor(ORT_TYPE_OF[tensor.type], tensor.data as Exclude<TensorData, Uint8Array[]>, dims);
}

function fromOrt(tensor: ort.Tensor): WireTensor {
  const type = dataTypeOf(tensor.type) ?? 'FP32';
  if (type === 'BYTES') {
    const encoder = new TextEncoder();
    return { type, shape: [...tensor.dims], data: (tensor.data as string[]).map((s) => encoder.encode(s)) };
  }
  return { type, shape: [...tensor.dims], data: tensor.data as Exclude<TensorData, Uint8Array[]> };
}

const NO_SPINNING = { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } };

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  executionMode: 'sequential',
  intraOpNumThreads: init.threads,
  interOpNumThreads: 1,
  // Spinning threads would burn the cores the other workers and the decoder need.
  extra: { session: NO_SPINNING },
};

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A session on the model, through the optimized-graph cache when there is one: the saved graph is loaded
 * with optimization off; without it the model is optimized and the result saved for the next start. A
 * cache file that will not load (torn, or from another ORT build) is replaced, never trusted.
 */
async function createSession(): Promise<{
  session: ort.InferenceSession;
  optimizedGraph: OptimizedGraphOutcome;
}> {
  const full = { ...SESSION_OPTIONS, graphOptimizationLevel: 'all' } as const;
  const cache = init.optimizedGraph;
  if (cache === undefined) {
    return {
      session: await ort.InferenceSession.create(init.modelPath, full),
      optimizedGraph: { outcome: 'not cached' },
    };
  }
  if (isRegularFile(cache.file)) {
    try {
      const session = await ort.InferenceSession.create(cache.file, {
        ...SESSION_OPTIONS,
        graphOptimizationLevel: 'disabled',
      });
      return { session, optimizedGraph: { outcome: 'read' } };
    } catch {
      rmSync(cache.file, { force: true });
    }
  }
  // One writer at a time (the other workers of the pool, another server on the same cache): a second copy
  // would only cost disk, and a Kubernetes emptyDir over its size limit gets the pod evicted.
  const lock = claim(`${cache.file}.writing`);
  if (lock === undefined) {
    return {
      session: await ort.InferenceSession.create(init.modelPath, full),
      optimizedGraph: { outcome: 'not cached' },
    };
  }
  try {
    return await createAndSave(cache, full);
  } finally {
    rmSync(lock, { force: true });
  }
}

/** A saved graph is only ever a regular file: ONNX Runtime opening anything else (a FIFO) could block for ever. */
function isRegularFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A writer older than this died mid-write (ResNet50's graph takes well under a second to write). */
const STALE_LOCK_MS = 10 * 60_000;

/** Creates `file` if nobody has; a file left by a writer that died long ago is taken over. */
function claim(file: string): string | undefined {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      closeSync(openSync(file, 'wx'));
      return file;
    } catch {
      try {
        if (Date.now() - statSync(file).mtimeMs < STALE_LOCK_MS) return undefined;
        rmSync(file, { force: true });
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

async function createAndSave(
  cache: NonNullable<WorkerInit['optimizedGraph']>,
  full: ort.InferenceSession.SessionOptions,
): Promise<{ session: ort.InferenceSession; optimizedGraph: OptimizedGraphOutcome }> {
  // The graph is written under a temporary name and renamed into place, so nobody ever reads a half-written
  // graph. Its weights go to a file of their own, which ORT reads back far faster than weights inside the
  // protobuf (ResNet50: a session in ~50 ms instead of ~300 ms). That file's name is new for every write:
  // another server may be running on the previous one, and writing over a file in use would corrupt it.
  // ORT warns that the graph is CPU-specific (logged below error level): the cache key already says so.
  const writer = `${String(process.pid)}-${String(threadId)}-${randomBytes(4).toString('hex')}`;
  const temporary = `${cache.file}.${writer}.tmp`;
  const weights = `${path.basename(cache.file, '.onnx')}.${writer}${WEIGHTS_SUFFIX}`;
  const dir = path.dirname(cache.file);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(init.modelPath, {
      ...full,
      optimizedModelFilePath: temporary,
      logSeverityLevel: 3,
      extra: {
        session: {
          ...NO_SPINNING,
          optimized_model_external_initializers_file_name: weights,
          optimized_model_external_initializers_min_size_in_bytes: '1024',
        },
      },
    });
  } catch (error) {
    rmSync(temporary, { force: true });
    rmSync(path.join(dir, weights), { force: true });
    // Perhaps only the saving failed: a plain session decides whether the model itself loads.
    const session = await ort.InferenceSession.create(init.modelPath, full);
    return { session, optimizedGraph: { outcome: 'not cached', detail: message(error) } };
  }
  try {
    renameSync(temporary, cache.file);
    removeOthers(cache.file, weights, cache.siblingPrefix);
  } catch (error) {
    rmSync(temporary, { force: true });
    return { session, optimizedGraph: { outcome: 'not cached', detail: message(error) } };
  }
  return { session, optimizedGraph: { outcome: 'written' } };
}

const WEIGHTS_SUFFIX = '.weights';

/**
 * Graphs saved for earlier versions of the same model file are dead weight (about its size each), as are
 * weights files no graph names any more (left by a writer that died, or by a graph found torn).
 */
function removeOthers(file: string, weights: string, prefix: string): void {
  const dir = path.dirname(file);
  for (const name of readdirSync(dir)) {
    const ours = name === path.basename(file) || name === weights;
    const finished = name.endsWith('.onnx') || name.endsWith(WEIGHTS_SUFFIX);
    if (name.startsWith(prefix) && finished && !ours) rmSync(path.join(dir, name), { force: true });
  }
}

let session: ort.InferenceSession | undefined;
let codec: ImageCodec | undefined;

// Listening from the start, so that a pool giving up on a load (it timed out) can end this thread: the message
// is handled as soon as ONNX Runtime returns to JavaScript, between session creation and warm-up at the latest.
port.on('message', (message: ToWorker) => {
  if (message.kind === 'exit') process.exit(0);
  else if (session === undefined) return;
  // An upload starts decoding (on libuv's threads) the moment it arrives, so that with the pool sending jobs
  // ahead, the next image decodes while this thread is inside ORT's run for the current one.
  const decoding = message.kind === 'run-image' ? startDecoding(message) : undefined;
  held.push({ message, decoding });
  void next(session);
});

type Decoded = { readonly image: RgbImage } | { readonly failure: FromWorker };

/** Jobs received and not answered, in order; the first is the one running (or about to). */
const held: { message: Exclude<ToWorker, { kind: 'exit' }>; decoding: Promise<Decoded> | undefined }[] = [];
let running = false;

/**
 * Runs the held jobs one at a time. Between two runs it lets the event loop turn once, so messages that came
 * during a run are received (their decoding starts) before the next run blocks this thread again.
 */
async function next(session: ort.InferenceSession): Promise<void> {
  if (running) return;
  const job = held.shift();
  if (job === undefined) return;
  running = true;
  try {
    const { message } = job;
    if (message.kind === 'run')
      await run(session, message.id, message.seq, () => feedsOf(message.inputs), message.outputNames);
    else await runImage(session, message, job.decoding);
  } finally {
    running = false;
    if (held.length > 0) setImmediate(() => void next(session));
  }
}

/** The upload decoded with the worker's codec; never rejects. Nothing is decoded for a request that ended. */
function startDecoding(message: Extract<ToWorker, { kind: 'run-image' }>): Promise<Decoded> | undefined {
  const { id, seq, image } = message;
  if (isCancelled(seq)) return undefined;
  if (codec === undefined)
    return Promise.resolve({ failure: internal(id, 'this worker has no image codec') });
  const input = message.input;
  return codec
    .decode({
      bytes: image.bytes,
      header: image.header,
      width: input.width,
      height: input.height,
      resizeMode: input.resizeMode,
      resizeShorterSide: input.resizeShorterSide,
      maxPixels: image.maxPixels,
    })
    .then(
      (decoded) => ({ image: decoded }),
      // The codec's own SkiffErrors (undecodable, too large) carry words written for the client.
      (error: unknown) => ({
        failure:
          error instanceof SkiffError
            ? { kind: 'failed', id, code: error.code, message: error.message }
            : {
                kind: 'failed',
                id,
                code: 'SKIFF_UNDECODABLE_IMAGE',
                message: 'the image could not be decoded',
              },
      }),
    );
}

/**
 * Packs the decoded upload into one input buffer reused from job to job (a ResNet50 input is 588 KiB:
 * allocating one per request kept V8's collector busy), then runs it. The request's end, written by the pool
 * into shared memory, is looked at before the decoding started and again before the run.
 */
async function runImage(
  session: ort.InferenceSession,
  message: Extract<ToWorker, { kind: 'run-image' }>,
  decoding: Promise<Decoded> | undefined,
): Promise<void> {
  const { id, seq, outputNames } = message;
  const decoded = decoding === undefined ? undefined : await decoding;
  if (decoded === undefined || isCancelled(seq)) {
    post(cancelledAnswer(id));
    return;
  }
  if ('failure' in decoded) {
    post(decoded.failure);
    return;
  }
  const input = sameContract(message.input);
  await run(
    session,
    id,
    seq,
    () => {
      const tensor = imagesToTensor([decoded.image], input, reusable);
      reusable = tensor.data as typeof reusable;
      return { [input.name]: toOrt(tensor) };
    },
    outputNames,
  );
}

let reusable: Float32Array | Uint16Array | Uint8Array | undefined;
let lastContract: { key: string; contract: ImageInputContract } | undefined;

/** The same contract object job after job, so the packing tables built for it are found again. */
function sameContract(contract: ImageInputContract): ImageInputContract {
  const key = JSON.stringify(contract);
  if (lastContract?.key !== key) lastContract = { key, contract };
  return lastContract.contract;
}

function cancelledAnswer(id: number): FromWorker {
  return {
    kind: 'failed',
    id,
    code: 'SKIFF_CANCELLED',
    message: 'the request ended before it was decoded or run',
  };
}

function internal(id: number, text: string): FromWorker {
  return { kind: 'failed', id, code: 'SKIFF_INTERNAL' satisfies ErrorCode, message: text };
}

function feedsOf(inputs: Record<string, WireTensor>): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, toOrt(t)]));
}

/** The codec module named by the composition root (imported here, so the main thread never waits for it). */
async function loadCodec(): Promise<ImageCodec | undefined> {
  if (init.imageCodecModule === undefined) return undefined;
  const module = (await import(init.imageCodecModule)) as { createImageCodec: () => ImageCodec };
  return module.createImageCodec();
}

async function main(): Promise<void> {
  let created: Awaited<ReturnType<typeof createSession>>;
  const started = performance.now();
  try {
    [created, codec] = await Promise.all([createSession(), loadCodec()]);
  } catch (error) {
    post({ kind: 'load-failed', message: message(error) });
    return;
  }
  const sessionCreateMs = performance.now() - started;
  const inputs = describe(created.session.inputMetadata);
  const warmed = await warmUp(created.session, inputs);
  session = created.session;
  post({
    kind: 'ready',
    inputs,
    outputs: describe(created.session.outputMetadata),
    optimizedGraph: created.optimizedGraph,
    warmedUp: warmed,
    sessionCreateMs,
    warmUpMs: performance.now() - started - sessionCreateMs,
  });
}

async function run(
  session: ort.InferenceSession,
  id: number,
  seq: number,
  makeFeeds: () => Record<string, ort.Tensor>,
  outputNames: readonly string[] | undefined,
): Promise<void> {
  if (isCancelled(seq)) {
    post(cancelledAnswer(id));
    return;
  }
  let feeds: Record<string, ort.Tensor>;
  try {
    feeds = makeFeeds();
  } catch {
    // The client sees this one (a bad tensor is its mistake): our words, not the runtime's.
    post({
      kind: 'failed',
      id,
      code: 'SKIFF_BAD_TENSOR',
      message: 'an input tensor does not fit its declared type and shape',
    });
    return;
  }
  let results: ort.InferenceSession.ReturnType;
  const started = performance.now();
  try {
    results =
      outputNames === undefined ? await session.run(feeds) : await session.run(feeds, [...outputNames]);
  } catch (error) {
    // ORT's message names its build paths and C++ internals: logged by the adapters, never sent.
    post({ kind: 'failed', id, code: 'SKIFF_INFERENCE_FAILED', message: errorText(error) });
    return;
  }
  const outputs: Record<string, WireTensor> = {};
  const transfer: ArrayBuffer[] = [];
  for (const [name, tensor] of Object.entries(results)) {
    const wire = fromOrt(tensor);
    outputs[name] = wire;
    if (
      !Array.isArray(wire.data) &&
      wire.data.buffer instanceof ArrayBuffer &&
      !transfer.includes(wire.data.buffer)
    ) {
      transfer.push(wire.data.buffer);
    }
  }
  post({ kind: 'result', id, outputs, runMs: performance.now() - started }, transfer);
}

/**
 * One inference on zeros before the worker says it is ready: ORT allocates and packs lazily on the first
 * run, and doing that here keeps it off the first request, off a replaced worker's first request, and off
 * the start-up path (the main thread is still loading its HTTP and gRPC stacks meanwhile). Only when every
 * input's shape is known but for the batch: guessing an image size could pick one the model rejects.
 */
async function warmUp(session: ort.InferenceSession, inputs: readonly TensorInfo[]): Promise<boolean> {
  if (inputs.some((input) => input.type === 'BYTES' || input.shape.slice(1).some((d) => d < 0))) return false;
  try {
    await session.run(Object.fromEntries(inputs.map((input) => [input.name, toOrt(zeroTensor(input))])));
    return true;
  } catch {
    return false;
  }
}

function errorText(error: unknown): string {
  return message(error).slice(0, 4000);
}

await main();
