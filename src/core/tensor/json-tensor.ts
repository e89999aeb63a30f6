import type { DataType, TensorData } from './data-type.js';
import type { Tensor } from './tensor.js';
import { elementCount, float16ToNumber, numberToFloat16 } from './tensor.js';
import { SkiffError } from '../errors.js';
import type { RawJsonNumber } from './exact-json.js';
import { exactJsonInteger, stringifyExact } from './exact-json.js';

/** Largest finite values of the float types. */
const FP16_MAX = 65504;
const FP32_MAX = 3.4028234663852886e38;
/**
 * Where a number stops rounding down to that largest value and rounds up to Infinity instead: half a step
 * beyond it (exclusive, since a tie rounds to even, which is Infinity). `3.4028235e38`, the way Go, Java and
 * numpy print FLT_MAX, is below the FP32 one.
 */
const FP16_OVERFLOW = 65520;
const FP32_OVERFLOW = 2 ** 128 - 2 ** 103;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const INT_RANGE: Partial<Record<DataType, readonly [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
};

/**
 * Builds a tensor from JSON `data` as the Open Inference Protocol allows it: flat row-major or nested to
 * the shape. Numbers are checked against the type (integers in range, booleans for BOOL, strings for
 * BYTES). 64-bit integers beyond 2^53 arrive as bigint from parseJsonExact and are kept exact. JSON has no
 * NaN or Infinity, so a float that is not finite in its type (1e999, or 1e39 for FP32) is an overflow the
 * client did not mean, and is refused rather than sent to the model as Infinity.
 * Throws SKIFF_BAD_TENSOR naming the input and the first bad element.
 */
export function tensorFromJson(
  name: string,
  type: DataType,
  shape: readonly number[],
  data: unknown,
): Tensor {
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `input "${name}": shape [${shape.join(',')}] must hold non-negative integers`,
      );
    }
  }
  const count = elementCount(shape);
  const flat = flatten(name, data, count);
  if (flat.length !== count) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `input "${name}": ${flat.length} values do not fit shape [${shape.join(',')}] (${count} expected)`,
    );
  }
  const bad = (index: number, expected: string): SkiffError =>
    new SkiffError(
      'SKIFF_BAD_TENSOR',
      `input "${name}": element ${index} is ${shown(flat[index])}, expected ${expected} for ${type}`,
    );
  // Written straight into the typed array: a 150k-element input is converted in one loop, with no array between.
  const floats = <T extends Float32Array | Float64Array | number[]>(
    out: T,
    largest: number,
    overflow: number,
  ): T => {
    for (let i = 0; i < flat.length; i++) {
      const value = flat[i];
      // A long integer literal is still a number to a float input.
      const v = typeof value === 'bigint' ? Number(value) : value;
      if (typeof v !== 'number') throw bad(i, 'a number');
      if (!(Math.abs(v) < overflow)) throw bad(i, `a finite number (at most ${largest} in magnitude)`);
      out[i] = v;
    }
    return out;
  };
  const integers = (): number[] => {
    const range = INT_RANGE[type];
    return flat.map((v, i) => {
      if (
        typeof v !== 'number' ||
        !Number.isInteger(v) ||
        (range !== undefined && (v < range[0] || v > range[1]))
      ) {
        throw bad(i, range === undefined ? 'an integer' : `an integer from ${range[0]} to ${range[1]}`);
      }
      return v;
    });
  };
  const bigints = (min: bigint, max: bigint): bigint[] =>
    flat.map((v, i) => {
      // A number here is a safe integer or was written as a float (1e3, 2.0): only exact values pass.
      const n =
        typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;
      if (n === undefined || n < min || n > max) throw bad(i, `an integer from ${min} to ${max}`);
      return n;
    });
  const values: TensorData = (() => {
    switch (type) {
      case 'BOOL':
        return Uint8Array.from(
          flat.map((v, i) => {
            if (typeof v !== 'boolean') throw bad(i, 'true or false');
            return v ? 1 : 0;
          }),
        );
      case 'BYTES': {
        const encoder = new TextEncoder();
        return flat.map((v, i) => {
          if (typeof v !== 'string') throw bad(i, 'a string');
          return encoder.encode(v);
        });
      }
      case 'FP16':
        return Uint16Array.from(
          floats(new Array<number>(flat.length), FP16_MAX, FP16_OVERFLOW),
          numberToFloat16,
        );
      case 'FP32':
        return floats(new Float32Array(flat.length), FP32_MAX, FP32_OVERFLOW);
      case 'FP64':
        return floats(new Float64Array(flat.length), Number.MAX_VALUE, Infinity);
      case 'UINT8':
        return Uint8Array.from(integers());
      case 'UINT16':
        return Uint16Array.from(integers());
      case 'UINT32':
        return Uint32Array.from(integers());
      case 'INT8':
        return Int8Array.from(integers());
      case 'INT16':
        return Int16Array.from(integers());
      case 'INT32':
        return Int32Array.from(integers());
      case 'INT64':
        return BigInt64Array.from(bigints(INT64_MIN, INT64_MAX));
      case 'UINT64':
        return BigUint64Array.from(bigints(0n, UINT64_MAX));
    }
  })();
  return { type, shape: [...shape], data: values };
}

/**
 * Flat row-major JSON values of a tensor (BOOL as booleans, BYTES as UTF-8 strings, FP16 decoded, 64-bit
 * integers beyond 2^53 as raw JSON digits, exact).
 */
export function tensorToJson(tensor: Tensor): (number | boolean | string | RawJsonNumber)[] {
  const data = tensor.data;
  if (Array.isArray(data)) {
    const decoder = new TextDecoder();
    return data.map((b) => decoder.decode(b));
  }
  if (tensor.type === 'BOOL') return elements(data as Uint8Array, (v) => v !== 0);
  if (tensor.type === 'FP16') return elements(data as Uint16Array, float16ToNumber);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array)
    return elements<bigint, number | RawJsonNumber>(data, exactJsonInteger);
  return elements(data as ArrayLike<number>, (v) => v);
}

/**
 * A typed array's elements as a plain array. Not Array.from: on a typed array it walks the iterator, one
 * {value, done} object per element, which for a 1000-class output was most of what a response allocated.
 */
function elements<T, R>(data: ArrayLike<T>, convert: (value: T) => R): R[] {
  const out = new Array<R>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = convert(data[i] as T);
  return out;
}

function flatten(name: string, data: unknown, limit: number): readonly unknown[] {
  if (!Array.isArray(data)) {
    throw new SkiffError('SKIFF_BAD_TENSOR', `input "${name}": "data" must be an array`);
  }
  // Flat already, as most clients send it: used as it is rather than copied element by element.
  if (!data.some(Array.isArray)) return data as unknown[];
  const out: unknown[] = [];
  const walk = (value: unknown[], depth: number): void => {
    if (depth > 32) throw new SkiffError('SKIFF_BAD_TENSOR', `input "${name}": "data" is nested too deeply`);
    for (const item of value) {
      if (Array.isArray(item)) walk(item, depth + 1);
      else out.push(item);
      // Stop early on absurd payloads instead of flattening them all.
      if (out.length > limit) return;
    }
  };
  walk(data, 0);
  return out;
}

/** An element as a message shows it: numbers as JavaScript prints them (JSON would print Infinity as null). */
function shown(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return (stringifyExact(value) ?? String(value)).slice(0, 40);
}
