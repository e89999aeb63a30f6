import type { TensorMetadata } from '../../core/inference-types.js';
import type { TensorInfo } from '../../core/tensor/tensor.js';
import type { RequestLimits } from '../../core/request/request-limits.js';
import type { DecodedInfer } from './oip-codec.js';
import type { DecodedV1 } from './v1-body.js';
import type { DecodedSeldon } from './seldon-body.js';
import type { DecodedRows } from './rows-body.js';
import type { DecodedModelInfer, ModelInferRequestMessage } from '../grpc/grpc-codec.js';
import { decodeInferBody } from './oip-codec.js';
import { decodeV1Body } from './v1-body.js';
import { decodeSeldonBody } from './seldon-body.js';
import { decodeRowsBody } from './rows-body.js';
import { parseJsonBody } from './json-body.js';
import { decodeModelInfer } from '../grpc/grpc-codec.js';
import { scanModelInfer } from '../grpc/model-infer-scan.js';
import { SkiffError } from '../../core/errors.js';

/**
 * One request body to decode, with what its decoder needs to know of the model. Plain data, so that it can
 * cross to a worker thread: every protocol's body is turned into tensors by the same pure functions,
 * inline for small bodies and in the decode worker for large ones (decode-pool.ts).
 */
export type DecodeJob =
  | {
      readonly kind: 'oip';
      readonly body: Uint8Array;
      readonly model: string;
      readonly version: string | undefined;
      readonly headerLength: number | undefined;
      /**
       * The bytes after the JSON header, when they were read into a buffer of their own (then `body` holds
       * only the header): a tensor that is all of them is used as it is, not copied.
       */
      readonly binary?: Uint8Array;
      /** The model's inputs when it is ready, to refuse a wrong name or type before converting data. */
      readonly declared: readonly TensorInfo[] | undefined;
    }
  | { readonly kind: 'v1'; readonly body: Uint8Array; readonly inputs: readonly TensorMetadata[] }
  | { readonly kind: 'seldon'; readonly body: Uint8Array; readonly input: TensorMetadata | undefined }
  | { readonly kind: 'rows'; readonly body: Uint8Array; readonly input: TensorMetadata }
  | { readonly kind: 'grpc-infer'; readonly body: Uint8Array };

export interface DecodeResults {
  readonly oip: DecodedInfer;
  readonly v1: DecodedV1;
  readonly seldon: DecodedSeldon;
  readonly rows: DecodedRows;
  readonly 'grpc-infer': DecodedModelInfer;
}

export type JobOf<K extends DecodeJob['kind']> = Extract<DecodeJob, { kind: K }>;

/** Turns a protobuf ModelInferRequest into its message object (the service's own deserializer). */
export type ProtobufDecoder = (bytes: Uint8Array) => ModelInferRequestMessage;

/**
 * Decodes a body. Throws the decoders' SkiffErrors (bad JSON, nesting, limits, bad tensors). Called inline
 * or in the decode worker, never anywhere else, so that both give the same answers.
 */
export function runDecodeJob<K extends DecodeJob['kind']>(
  job: JobOf<K>,
  limits: RequestLimits,
  protobuf: ProtobufDecoder,
): DecodeResults[K] {
  const decoded = decode(job, limits, protobuf);
  return decoded as DecodeResults[K];
}

function decode(
  job: DecodeJob,
  limits: RequestLimits,
  protobuf: ProtobufDecoder,
): DecodeResults[DecodeJob['kind']] {
  const bytes = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
  switch (job.kind) {
    case 'oip':
      return decodeInferBody(
        job.model,
        job.version,
        bytes,
        job.headerLength,
        limits,
        job.declared,
        job.binary,
      );
    case 'v1':
      return decodeV1Body(parseJsonBody(bytes, limits.maxJsonDepth), job.inputs, limits);
    case 'seldon':
      return decodeSeldonBody(parseJsonBody(bytes, limits.maxJsonDepth), job.input, limits);
    case 'rows':
      return decodeRowsBody(parseJsonBody(bytes, limits.maxJsonDepth), job.input, limits);
    case 'grpc-infer':
      // Counted on the wire before anything is decoded: a small message may hold millions of elements.
      scanModelInfer(bytes, limits);
      return decodeModelInfer(deserialize(protobuf, bytes), limits);
  }
}

/** The deserializer's own errors (protobufjs's RangeError, "invalid wire type") are the client's mistake. */
function deserialize(protobuf: ProtobufDecoder, bytes: Uint8Array): ModelInferRequestMessage {
  try {
    return protobuf(bytes);
  } catch (error) {
    throw new SkiffError('SKIFF_BAD_REQUEST', 'the ModelInferRequest is not a valid protobuf message', {
      cause: error,
    });
  }
}
