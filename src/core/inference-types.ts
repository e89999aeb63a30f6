import type { DataType } from './tensor/data-type.js';
import type { Tensor } from './tensor/tensor.js';
import type { Layout, VersionPolicy } from './model/model-config.js';

/** An output the caller asked for; `classification: N` turns it into the top-N "value:index:label" strings. */
export interface RequestedOutput {
  readonly name: string;
  readonly classification?: number | undefined;
}

/** A protocol-neutral inference request: what every adapter builds from its wire format. */
export interface InferRequest {
  readonly model: string;
  readonly version?: string | undefined;
  readonly id?: string | undefined;
  readonly inputs: Readonly<Record<string, Tensor>>;
  /** Omitted: every output of the model. */
  readonly outputs?: readonly RequestedOutput[] | undefined;
}

export interface InferResponse {
  readonly model: string;
  readonly version: string;
  readonly id?: string | undefined;
  readonly outputs: readonly { readonly name: string; readonly tensor: Tensor }[];
}

export interface TensorMetadata {
  readonly name: string;
  readonly datatype: DataType;
  /** -1 marks a dynamic dimension. */
  readonly shape: readonly number[];
}

export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}

export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

export interface ConfiguredTensor {
  readonly name: string;
  readonly datatype: DataType;
  /** Without the batch dimension when maxBatchSize > 0 (Triton's dims); -1 marks a dynamic dimension. */
  readonly dims: readonly number[];
  /** The image layout of an image model's input. */
  readonly format?: Layout | undefined;
}

/**
 * How Skiff serves a model, in the terms of Triton's model configuration: what it really does, nothing
 * it does not. `maxBatchSize` is 0 unless Skiff's scheduler batches requests together (model.json
 * `batching.maxBatchSize` > 1 on a model whose inputs all have a dynamic first dimension).
 */
export interface ModelConfiguration {
  readonly name: string;
  readonly platform: string;
  readonly backend: string;
  readonly versionPolicy: VersionPolicy;
  readonly maxBatchSize: number;
  readonly inputs: readonly ConfiguredTensor[];
  readonly outputs: readonly ConfiguredTensor[];
  /** Worker threads each holding an instance of the model (--workers), all on the CPU. */
  readonly instanceCount: number;
  readonly dynamicBatching:
    | {
        readonly preferredBatchSizes: readonly number[];
        readonly maxQueueDelayMicroseconds: number;
        /** Requests allowed to wait (model.json maxQueueSize or --max-queue-size). */
        readonly maxQueueSize: number;
        /** 0: a request waits as long as its own deadline allows. */
        readonly queueTimeoutMicroseconds: number;
      }
    | undefined;
}
