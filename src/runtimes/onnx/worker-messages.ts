import type { DataType, TensorData } from '../../core/tensor/data-type.js';
import type { TensorInfo } from '../../core/tensor/tensor.js';
import type { ErrorCode } from '../../core/errors.js';

/** What crosses the thread boundary; typed arrays are transferred, not copied, where they own their buffer. */
export interface WireTensor {
  readonly type: DataType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export interface WorkerInit {
  readonly modelPath: string;
  readonly threads: number;
}

export type ToWorker = {
  readonly kind: 'run';
  readonly id: number;
  readonly inputs: Record<string, WireTensor>;
  readonly outputNames: readonly string[] | undefined;
};

export type FromWorker =
  | { readonly kind: 'ready'; readonly inputs: TensorInfo[]; readonly outputs: TensorInfo[] }
  | { readonly kind: 'load-failed'; readonly message: string }
  | { readonly kind: 'result'; readonly id: number; readonly outputs: Record<string, WireTensor> }
  | { readonly kind: 'failed'; readonly id: number; readonly code: ErrorCode; readonly message: string };
