// Worker thread entry: owns one InferenceSession, runs one inference at a time, so the main thread's event
// loop never waits for ORT's synchronous run.
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { FromWorker, ToWorker, WireTensor, WorkerInit } from './worker-messages.js';
import type { TensorInfo } from '../../core/tensor/tensor.js';
import type { TensorData } from '../../core/tensor/data-type.js';
import { ORT_TYPE_OF, dataTypeOf } from './ort-types.js';

const port = parentPort;
if (port === null) throw new Error('onnx-worker must run in a worker thread');
const init = workerData as WorkerInit;

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

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(init.modelPath, {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: init.threads,
      interOpNumThreads: 1,
      // Spinning threads would burn the cores the other workers and the decoder need.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
  } catch (error) {
    post({ kind: 'load-failed', message: error instanceof Error ? error.message : String(error) });
    return;
  }
  post({ kind: 'ready', inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) });

  port?.on('message', (message: ToWorker) => {
    void run(session, message);
  });
}

async function run(session: ort.InferenceSession, message: ToWorker): Promise<void> {
  let feeds: Record<string, ort.Tensor>;
  try {
    feeds = Object.fromEntries(Object.entries(message.inputs).map(([name, t]) => [name, toOrt(t)]));
  } catch (error) {
    post({ kind: 'failed', id: message.id, code: 'SKIFF_BAD_TENSOR', message: errorText(error) });
    return;
  }
  let results: ort.InferenceSession.ReturnType;
  try {
    results =
      message.outputNames === undefined
        ? await session.run(feeds)
        : await session.run(feeds, [...message.outputNames]);
  } catch (error) {
    // ORT rejects bad shapes and types with its own message; it names inputs, never host paths.
    post({ kind: 'failed', id: message.id, code: 'SKIFF_BAD_TENSOR', message: errorText(error) });
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
  post({ kind: 'result', id: message.id, outputs }, transfer);
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? 'inference failed';
}

await main();
