import type { DataType, TensorData } from '../../core/tensor/data-type.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import { SkiffError } from '../../core/errors.js';
import { elementCount } from '../../core/tensor/tensor.js';

/**
 * `InferTensorContents` as @grpc/proto-loader hands it over with `longs: String` and `arrays: true`:
 * 64-bit integers arrive as decimal strings so that values beyond 2^53 survive.
 */
export interface TensorContentsMessage {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: (string | number)[];
  uint_contents?: number[];
  uint64_contents?: (string | number)[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}

type ContentsField = keyof TensorContentsMessage;

/** The one field of InferTensorContents each datatype travels in; FP16 has none (raw only). */
export const CONTENTS_FIELD = {
  BOOL: 'bool_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  FP16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
} as const satisfies Record<DataType, ContentsField | undefined>;

const CONTENTS_FIELDS: readonly ContentsField[] = [
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
];

// int_contents and uint_contents are 32-bit on the wire: narrower types must be range-checked here.
const RANGE: Partial<Record<DataType, readonly [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Builds a tensor from typed gRPC contents. The contents must use exactly the field of the datatype and
 * hold one value per element. Throws SKIFF_BAD_TENSOR naming the input.
 */
export function tensorFromContents(
  name: string,
  type: DataType,
  shape: readonly number[],
  contents: TensorContentsMessage,
): Tensor {
  const field = CONTENTS_FIELD[type];
  if (field === undefined) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `input "${name}": ${type} has no typed contents field; send it in raw_input_contents`,
    );
  }
  for (const other of CONTENTS_FIELDS) {
    if (other !== field && (contents[other]?.length ?? 0) > 0) {
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `input "${name}": ${type} data goes in contents.${field}, got contents.${other}`,
      );
    }
  }
  const values: readonly unknown[] = contents[field] ?? [];
  const count = elementCount(shape);
  if (values.length !== count) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `input "${name}": ${values.length} values in contents.${field} do not fit shape [${shape.join(',')}] (${count} expected)`,
    );
  }
  return { type, shape: [...shape], data: typedData(name, type, values) };
}

function typedData(name: string, type: DataType, values: readonly unknown[]): TensorData {
  const bad = (index: number, expected: string): SkiffError =>
    new SkiffError(
      'SKIFF_BAD_TENSOR',
      `input "${name}": element ${index} is ${String(values[index])}, expected ${expected} for ${type}`,
    );
  const small = (): number[] => {
    const range = RANGE[type];
    return values.map((v, i) => {
      const n = v as number;
      if (range !== undefined && (n < range[0] || n > range[1]))
        throw bad(i, `an integer from ${range[0]} to ${range[1]}`);
      return n;
    });
  };
  const big = (min: bigint, max: bigint): bigint[] =>
    values.map((v, i) => {
      let n: bigint;
      try {
        n = BigInt(v as string | number);
      } catch {
        throw bad(i, 'an integer');
      }
      if (n < min || n > max) throw bad(i, `an integer from ${min} to ${max}`);
      return n;
    });
  switch (type) {
    case 'BOOL':
      return Uint8Array.from(values, (v) => (v === true ? 1 : 0));
    case 'UINT8':
      return Uint8Array.from(small());
    case 'UINT16':
      return Uint16Array.from(small());
    case 'UINT32':
      return Uint32Array.from(values as number[]);
    case 'INT8':
      return Int8Array.from(small());
    case 'INT16':
      return Int16Array.from(small());
    case 'INT32':
      return Int32Array.from(values as number[]);
    case 'INT64':
      return BigInt64Array.from(big(INT64_MIN, INT64_MAX));
    case 'UINT64':
      return BigUint64Array.from(big(0n, UINT64_MAX));
    case 'FP32':
      return Float32Array.from(values as number[]);
    case 'FP64':
      return Float64Array.from(values as number[]);
    case 'BYTES':
      // Copied: the buffers may be views into the whole received message.
      return (values as Uint8Array[]).map((b) => Uint8Array.from(b));
    case 'FP16':
      throw new SkiffError('SKIFF_BAD_TENSOR', `input "${name}": FP16 travels only in raw contents`);
  }
}

/**
 * Typed gRPC contents of a tensor, 64-bit integers as decimal strings (exact at any magnitude). Throws
 * SKIFF_BAD_PARAMETER for FP16, which the protocol carries only as raw bytes.
 */
export function tensorToContents(name: string, tensor: Tensor): TensorContentsMessage {
  const field = CONTENTS_FIELD[tensor.type];
  if (field === undefined) {
    throw new SkiffError(
      'SKIFF_BAD_PARAMETER',
      `output "${name}" is ${tensor.type}, which has no typed contents field; ask for raw output contents`,
    );
  }
  const data = tensor.data;
  if (Array.isArray(data))
    return { bytes_contents: data.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)) };
  if (tensor.type === 'BOOL') return { bool_contents: Array.from(data as Uint8Array, (v) => v !== 0) };
  if (data instanceof BigInt64Array || data instanceof BigUint64Array)
    return { [field]: Array.from(data, (v) => v.toString()) };
  return { [field]: Array.from(data as ArrayLike<number>) };
}
