import type { DataType } from '../../core/tensor/data-type.js';

/** onnxruntime-node's names for each tensor element type. */
export const ORT_TYPE_OF = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
} as const satisfies Record<DataType, string>;

const DATA_TYPE_OF = Object.fromEntries(Object.entries(ORT_TYPE_OF).map(([k, v]) => [v, k])) as Record<
  string,
  DataType
>;

export function dataTypeOf(ortType: string): DataType | undefined {
  return DATA_TYPE_OF[ortType];
}
