import type { DataType, TensorData } from './data-type.js';
import { SkiffError } from '../errors.js';

/** A dense row-major tensor. Dimensions are non-negative integers; a dynamic dimension never appears here. */
export interface Tensor {
  readonly type: DataType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** Static description of a model input or output; `-1` marks a dynamic dimension. */
export interface TensorInfo {
  readonly name: string;
  readonly type: DataType;
  readonly shape: readonly number[];
}

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/**
 * Refuses a tensor whose shape has more than `maxElements` elements, before anything of that size is
 * allocated: the body limit bounds bytes on the wire, this bounds what one request makes the server and the
 * runtime hold (JSON numbers expand several times over when parsed, and activations grow with the batch).
 */
export function checkElementCount(name: string, shape: readonly number[], maxElements: number): void {
  const count = elementCount(shape);
  if (count > maxElements) {
    throw new SkiffError(
      'SKIFF_TENSOR_TOO_LARGE',
      `input "${name}": shape [${shape.join(',')}] has ${count} elements, more than the limit of ${maxElements} (--max-tensor-elements)`,
    );
  }
}

export function makeTensor(type: DataType, shape: readonly number[], data: TensorData): Tensor {
  const expected = elementCount(shape);
  if (data.length !== expected) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `tensor of shape [${shape.join(',')}] needs ${expected} elements, got ${data.length}`,
    );
  }
  return { type, shape: [...shape], data };
}

/** Reads element i of a numeric tensor as a JS number (FP16 decoded, 64-bit integers narrowed). */
export function numberAt(tensor: Tensor, index: number): number {
  const value = tensor.data[index];
  if (value === undefined) throw new RangeError(`index ${index} out of range`);
  if (tensor.type === 'FP16') return float16ToNumber(value as number);
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  throw new SkiffError('SKIFF_BAD_TENSOR', 'BYTES tensors have no numeric value');
}

/**
 * IEEE 754 binary16 bits of a number, rounded to nearest even directly from the double (going through
 * float32 first would round twice). Node 20 has no Float16Array.
 */
export function numberToFloat16(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= 65520) return sign | 0x7c00;
  if (magnitude < 2 ** -14) return sign | roundHalfEven(magnitude * 2 ** 24);
  let exponent = Math.floor(Math.log2(magnitude));
  if (2 ** exponent > magnitude) exponent--;
  if (2 ** (exponent + 1) <= magnitude) exponent++;
  // Scaling by a power of two is exact, so this is the 11-bit significand with the rest as a fraction.
  const significand = roundHalfEven(magnitude * 2 ** (10 - exponent));
  // A carry to 2048 correctly moves to the next exponent (the field arithmetic below absorbs it).
  return sign | (((exponent + 15) << 10) + significand - 1024);
}

/** Rounds to the nearest integer, ties to the even one (IEEE 754's default, and Python's round). */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
