// Worker thread entry of the DecodePool: decodes one request body at a time, on its own capped heap.
import { parentPort, workerData } from 'node:worker_threads';
import type { MethodDefinition } from '@grpc/grpc-js';
import type { RequestLimits } from '../../core/request/request-limits.js';
import type { DecodeJob } from './decode-job.js';
import type { ModelInferRequestMessage } from '../grpc/grpc-codec.js';
import { SkiffError } from '../../core/errors.js';
import { runDecodeJob } from './decode-job.js';
import { transferablesOf } from './transferables.js';
import { loadInferenceService } from '../grpc/inference-proto.js';

const port = parentPort;
if (port === null) throw new Error('decode-worker must run in a worker thread');
const { limits } = workerData as { limits: RequestLimits };
let protobuf: ((bytes: Uint8Array) => ModelInferRequestMessage) | undefined;

/** The gRPC stack is loaded only once a gRPC body comes: most servers' decoders never need it. */
function decodeProtobuf(bytes: Uint8Array): ModelInferRequestMessage {
  if (protobuf === undefined) {
    const method = loadInferenceService().ModelInfer as MethodDefinition<ModelInferRequestMessage, unknown>;
    protobuf = (raw) => method.requestDeserialize(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
  }
  return protobuf(bytes);
}

port.on('message', (message: { id: number; job: DecodeJob }) => {
  try {
    const result = runDecodeJob(message.job, limits, decodeProtobuf);
    port.postMessage({ id: message.id, result }, transferablesOf(result));
  } catch (error) {
    const code = error instanceof SkiffError ? error.code : 'SKIFF_INTERNAL';
    const text = error instanceof SkiffError ? error.message : 'the request body could not be decoded';
    port.postMessage({ id: message.id, error: { code, message: text } });
  }
});
