// Worker thread entry: owns one InferenceSession, runs one inference at a time, so the main thread's event
// loop never waits for ORT's synchronous run.
import { parentPort, workerData } from 'node:worker_threads';
import './without-float16-array.js';
import type ort from 'onnxruntime-node';
import type {
  FromWorker,
  JobFailure,
  PackedData,
  ToWorker,
  WireTensor,
  WorkerInit,
  WorkerSlotData,
} from './worker-messages.js';
import { badTensor } from './worker-messages.js';
import type { TensorInfo } from '../../core/tensor/tensor.js';
import { zeroTensor } from '../../core/tensor/raw-tensor.js';
import { SeqMarks } from './seq-marks.js';
import { createSession, errorMessage } from './create-session.js';
import { describe, feedsOf, toOrt, wireOutputs } from './ort-tensors.js';
import { ImageThread } from './image-thread.js';
import type { Prepared } from './decode-upload.js';
import { loadSyncDecoder, prepareUploadHere } from './decode-upload.js';
import type { SyncImageDecoder } from '../../core/preprocess/image-codec.js';
import { releaseBuffers } from '../../host/release-buffers.js';

const port = parentPort;
if (port === null) throw new Error('onnx-worker must run in a worker thread');
const init = workerData as WorkerInit & Partial<WorkerSlotData>;
/** The pool marks here the seq of a job whose request has ended (see WorkerSlotData). */
const cancelledJobs = init.cancelled === undefined ? undefined : new SeqMarks(init.cancelled);
const isCancelled = (seq: number): boolean => cancelledJobs?.has(seq) === true;
/** The pool marks here the seq of a job once its event loop has polled since handing it over. */
const polledJobs = init.polled === undefined ? undefined : new SeqMarks(init.polled);
/**
 * How long a job may wait for its polled mark. The pool's event loop writes it within two turns of the
 * hand-over; only a loop stalled longer than this lets the job start unseen, rather than the worker stalling
 * with it.
 */
const POLLED_WAIT_MS = 2000;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

let session: ort.InferenceSession | undefined;
/** Decodes and packs this worker's uploads; absent when the worker takes tensors only. */
let images: ImageThread | undefined;
/**
 * This thread's own decoder (WorkerInit.imageDecoderModule), for an upload that finds the worker idle: with
 * nothing to run meanwhile, handing it to the image thread and back would only add two thread wake-ups.
 */
let decoderHere: SyncImageDecoder | undefined;
/** The input packed on this thread and not yet run (only an idle worker packs, so one at most), and a spare. */
let lentHere: PackedData | undefined;
let spareHere: PackedData | undefined;

// Listening from the start, so that a pool giving up on a load (it timed out) can end this thread: the message
// is handled as soon as ONNX Runtime returns to JavaScript, between session creation and warm-up at the latest.
port.on('message', (message: ToWorker) => {
  if (message.kind === 'exit') process.exit(0);
  else if (session === undefined) return;
  // An upload is prepared the moment it arrives: by the image thread, so that with the pool sending jobs ahead
  // the next image is decoded and packed while this thread is inside ORT's run for the current one; or here, at
  // once, when this thread holds nothing else.
  const preparing = message.kind === 'run-image' ? startPreparing(message) : undefined;
  held.push({ message, preparing });
  void next(session);
});

/** Jobs received and not answered, in order; the first is the one running (or about to). */
const held: { message: Exclude<ToWorker, { kind: 'exit' }>; preparing: Promise<Prepared> | undefined }[] = [];
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
    if (message.kind === 'run') {
      await run(session, message.id, message.seq, () => feedsOf(message.inputs), message.outputNames);
      // The inputs came with the message and are this thread's alone: their memory goes now rather than at
      // a collection (a 600 KB tensor per request otherwise piles up in RSS until then). An output that
      // shares an input's buffer already left with the result, detached.
      releaseBuffers(
        Object.values(message.inputs).flatMap(({ data }) => (ArrayBuffer.isView(data) ? [data] : [])),
      );
    } else await runImage(session, message, job.preparing);
  } finally {
    running = false;
    if (held.length > 0) setImmediate(() => void next(session));
  }
}

/**
 * The upload's decoding and packing, begun now; nothing is decoded for a request that ended. An upload that finds
 * this thread idle is decoded here when decoderHere can, in one synchronous stretch.
 */
function startPreparing(message: Extract<ToWorker, { kind: 'run-image' }>): Promise<Prepared> | undefined {
  if (isCancelled(message.seq)) return undefined;
  if (images === undefined) {
    const failure: JobFailure = {
      kind: 'failed',
      id: message.id,
      code: 'SKIFF_INTERNAL',
      message: 'this worker has no image codec',
    };
    return Promise.resolve({ failure });
  }
  const idle = !running && held.length === 0;
  const here = idle && decoderHere !== undefined ? prepareHere(decoderHere, message) : undefined;
  return here === undefined
    ? images.prepare(message.id, message.image, message.input)
    : Promise.resolve(here);
}

function prepareHere(
  decoder: SyncImageDecoder,
  message: Extract<ToWorker, { kind: 'run-image' }>,
): Prepared | undefined {
  const { id, image, input } = message;
  const prepared = prepareUploadHere(decoder, id, image, input, () => {
    const spare = spareHere;
    spareHere = undefined;
    return spare;
  });
  if (prepared === undefined) return undefined;
  if ('tensor' in prepared) lentHere = prepared.tensor.data as PackedData;
  // The upload's bytes came with the message and are spent: freed now rather than at a collection.
  releaseBuffers([image.bytes]);
  return prepared;
}

/**
 * Runs a packed upload. The request's end, written by the pool into shared memory, is looked at before the
 * decoding started and again before the run. The packed input goes back to the thread that packed it either way.
 */
async function runImage(
  session: ort.InferenceSession,
  message: Extract<ToWorker, { kind: 'run-image' }>,
  preparing: Promise<Prepared> | undefined,
): Promise<void> {
  const { id, seq, input, outputNames } = message;
  const prepared = preparing === undefined ? undefined : await preparing;
  if (prepared === undefined) {
    post(cancelledAnswer(id));
    return;
  }
  if ('failure' in prepared) {
    post(isCancelled(seq) ? cancelledAnswer(id) : prepared.failure);
    return;
  }
  if (isCancelled(seq)) post(cancelledAnswer(id));
  else await run(session, id, seq, () => ({ [input.name]: toOrt(prepared.tensor) }), outputNames);
  giveBack(prepared.tensor);
}

/**
 * Every job waits here, right before its run, until the pool's event loop has polled its sockets since
 * handing it over: usually long done, as the mark comes two turns after the hand-over, and an idle loop turns
 * in microseconds. Without this, a client that left right after sending could still have its job run: the
 * event loop, busy with a burst of other requests, handed the job over (to an idle worker, or to one that
 * then ended its run) before it had read that client's leaving.
 */
function untilPolled(seq: number): void {
  if (polledJobs !== undefined && !polledJobs.has(seq)) polledJobs.waitFor(seq, POLLED_WAIT_MS);
}

/** A packed input that has been run (or will not be), back to the thread that packed it, to pack into again. */
function giveBack(tensor: WireTensor): void {
  if (tensor.data !== lentHere) {
    images?.giveBack(tensor);
    return;
  }
  spareHere = lentHere;
  lentHere = undefined;
}

/** The worker ends with its image thread: the pool sees a crash, fails the jobs held and starts another. */
function imageThreadLost(why: string): void {
  process.stderr.write(`skiff inference worker: ${why}\n`);
  process.exit(1);
}

function cancelledAnswer(id: number): JobFailure {
  return {
    kind: 'failed',
    id,
    code: 'SKIFF_CANCELLED',
    message: 'the request ended before it was decoded or run',
  };
}

async function main(): Promise<void> {
  let created: Awaited<ReturnType<typeof createSession>>;
  const started = performance.now();
  const codecModule = init.imageCodecModule;
  try {
    [created, images, decoderHere] = await Promise.all([
      createSession(init),
      codecModule === undefined ? undefined : ImageThread.start(codecModule, imageThreadLost),
      // Only a shortcut: without it every upload goes through the image thread, as it would anyway.
      codecModule === undefined ? undefined : loadSyncDecoder(init.imageDecoderModule).catch(() => undefined),
    ]);
  } catch (error) {
    post({ kind: 'load-failed', message: errorMessage(error) });
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
  untilPolled(seq);
  if (isCancelled(seq)) {
    post(cancelledAnswer(id));
    return;
  }
  let feeds: Record<string, ort.Tensor>;
  try {
    feeds = makeFeeds();
  } catch {
    // The client sees this one: our words, not the runtime's.
    post(badTensor(id));
    return;
  }
  let results: ort.InferenceSession.ReturnType;
  const started = performance.now();
  try {
    results =
      outputNames === undefined ? await session.run(feeds) : await session.run(feeds, [...outputNames]);
  } catch (error) {
    // ORT's message names its build paths and C++ internals: logged by the adapters, never sent.
    post({ kind: 'failed', id, code: 'SKIFF_INFERENCE_FAILED', message: errorMessage(error).slice(0, 4000) });
    return;
  }
  const { outputs, transfer } = wireOutputs(results);
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

await main();
