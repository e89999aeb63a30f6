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

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of a number, rounded to nearest even; Node 20 has no Float16Array. */
export function numberToFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0] ?? 0;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1;
    return sign | half;
  }
  // A carry out of the mantissa correctly bumps the exponent (and overflows to infinity at the top).
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
  return sign | half;
}

export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
