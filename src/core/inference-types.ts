import type { DataType } from './tensor/data-type.js';
import type { Tensor } from './tensor/tensor.js';

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
