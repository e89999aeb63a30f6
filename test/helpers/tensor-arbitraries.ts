// Generators of tensors and the checks the decoder fuzz tests share. Written apart from the decoders (own
// half-float arithmetic, own byte layouts) so that a test does not agree with a bug by sharing its code.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DataType, TensorData } from '../../src/core/tensor/data-type.js';
import { DATA_TYPES } from '../../src/core/tensor/data-type.js';
import type { Tensor } from '../../src/core/tensor/tensor.js';
import type { ErrorKind, SkiffError } from '../../src/core/errors.js';
import { isSkiffError } from '../../src/core/errors.js';
import type { RequestLimits } from '../../src/core/request/request-limits.js';

/** One seed for every decoder property, so that a failure in CI replays locally as it happened. */
export const FUZZ_SEED = 20261206;

export function fuzzRuns(numRuns: number): { seed: number; numRuns: number } {
  return { seed: FUZZ_SEED, numRuns };
}

/**
 * What a wire format can carry, which decides the values generated:
 * - raw: any bits (NaN payloads, infinities, the full 64-bit range, BYTES of any bytes);
 * - typed: gRPC typed contents, as raw but without NaN (a protobuf float is a value, not a bit pattern);
 * - json: finite floats, 64-bit integers within ±(2^53 - 1), BYTES that are UTF-8 text.
 */
export type Wire = 'raw' | 'typed' | 'json';

export interface NamedTensor {
  readonly name: string;
  readonly tensor: Tensor;
}

export interface ShapeOptions {
  readonly minRank?: number;
  readonly maxRank?: number;
  readonly maxDim?: number;
  /**
   * Row formats (V1 instances, Seldon ndarray, `X`) learn the shape from the nesting of the first row: they
   * need a batch of at least one and can only show a zero dimension as the last one.
   */
  readonly rows?: boolean;
  /** The first dimension, when all the inputs of a row-format request share their batch. */
  readonly batch?: number;
}

export const elementsOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function shapeArb(options: ShapeOptions = {}): fc.Arbitrary<number[]> {
  const { minRank = 0, maxRank = 3, maxDim = 4, rows = false, batch } = options;
  if (!rows) return fc.array(fc.integer({ min: 0, max: maxDim }), { minLength: minRank, maxLength: maxRank });
  const inner = fc.array(fc.integer({ min: 1, max: maxDim }), {
    minLength: Math.max(0, minRank - 1),
    maxLength: Math.max(0, maxRank - 1),
  });
  return fc
    .tuple(
      batch === undefined ? fc.integer({ min: 1, max: maxDim }) : fc.constant(batch),
      inner,
      fc.boolean(),
    )
    .map(([first, rest, zeroLast]) =>
      zeroLast && rest.length > 0 ? [first, ...rest.slice(0, -1), 0] : [first, ...rest],
    );
}

const sized = (n: number): { minLength: number; maxLength: number } => ({ minLength: n, maxLength: n });
const encoder = new TextEncoder();

/** Finite half floats: any sign, any exponent but the all-ones one (Infinity, NaN). */
const finiteHalf = fc
  .tuple(fc.boolean(), fc.integer({ min: 0, max: 0x7bff }))
  .map(([negative, bits]) => (negative ? 0x8000 : 0) | bits);

export function dataArb(type: DataType, n: number, wire: Wire): fc.Arbitrary<TensorData> {
  const json = wire === 'json';
  const safe = 2n ** 53n - 1n;
  switch (type) {
    case 'BOOL':
      return fc.array(fc.boolean(), sized(n)).map((v) => Uint8Array.from(v, (b) => (b ? 1 : 0)));
    case 'UINT8':
      return fc.uint8Array(sized(n));
    case 'UINT16':
      return fc.uint16Array(sized(n));
    case 'UINT32':
      return fc.uint32Array(sized(n));
    case 'INT8':
      return fc.int8Array(sized(n));
    case 'INT16':
      return fc.int16Array(sized(n));
    case 'INT32':
      return fc.int32Array(sized(n));
    case 'INT64':
      return fc.bigInt64Array({ ...sized(n), ...(json ? { min: -safe, max: safe } : {}) });
    case 'UINT64':
      return fc.bigUint64Array({ ...sized(n), ...(json ? { max: safe } : {}) });
    case 'FP16':
      return json ? fc.array(finiteHalf, sized(n)).map((v) => Uint16Array.from(v)) : fc.uint16Array(sized(n));
    case 'FP32':
      if (wire === 'raw') return fc.uint32Array(sized(n)).map((bits) => new Float32Array(bits.buffer));
      return fc.float32Array({ ...sized(n), noNaN: true, noDefaultInfinity: json });
    case 'FP64':
      if (wire === 'raw') return fc.bigUint64Array(sized(n)).map((bits) => new Float64Array(bits.buffer));
      return fc.float64Array({ ...sized(n), noNaN: true, noDefaultInfinity: json });
    case 'BYTES':
      return json
        ? fc
            .array(fc.string({ unit: 'binary', maxLength: 6 }), sized(n))
            .map((v) => v.map((s) => encoder.encode(s)))
        : fc.array(fc.uint8Array({ maxLength: 6 }), sized(n));
  }
}

export interface TensorOptions {
  readonly types?: readonly DataType[];
  readonly shape?: ShapeOptions;
}

export function tensorArb(wire: Wire, options: TensorOptions = {}): fc.Arbitrary<Tensor> {
  return fc
    .tuple(fc.constantFrom(...(options.types ?? DATA_TYPES)), shapeArb(options.shape))
    .chain(([type, shape]) => dataArb(type, elementsOf(shape), wire).map((data) => ({ type, shape, data })));
}

/**
 * Input names as clients choose them. Names that are keys of Object.prototype are left out here: they are
 * a finding of their own (decode-job.fuzz.test.ts), and `b64` / `image_bytes` make KServe V1 rows images.
 */
export const inputNameArb = fc
  .string({ minLength: 1, maxLength: 8 })
  .filter((name) => !(name in Object.prototype) && name !== 'b64' && name !== 'image_bytes');

export interface NamedTensorsOptions extends TensorOptions {
  readonly minInputs?: number;
  readonly maxInputs?: number;
}

export function namedTensorsArb(
  wire: Wire | ((index: number) => Wire),
  options: NamedTensorsOptions = {},
): fc.Arbitrary<NamedTensor[]> {
  const { minInputs = 1, maxInputs = 3 } = options;
  const wireOf = typeof wire === 'function' ? wire : () => wire;
  return fc
    .uniqueArray(inputNameArb, { minLength: minInputs, maxLength: maxInputs })
    .chain((names) =>
      fc.tuple(...names.map((name, i) => tensorArb(wireOf(i), options).map((tensor) => ({ name, tensor })))),
    );
}

/** Inputs of a row-format request: one batch size for all. */
export function rowTensorsArb(options: NamedTensorsOptions = {}): fc.Arbitrary<NamedTensor[]> {
  return fc
    .integer({ min: 1, max: options.shape?.maxDim ?? 4 })
    .chain((batch) =>
      namedTensorsArb('json', { ...options, shape: { maxRank: 3, ...options.shape, rows: true, batch } }),
    );
}

const ARRAY_OF: Record<DataType, string> = {
  BOOL: 'Uint8Array',
  UINT8: 'Uint8Array',
  UINT16: 'Uint16Array',
  UINT32: 'Uint32Array',
  UINT64: 'BigUint64Array',
  INT8: 'Int8Array',
  INT16: 'Int16Array',
  INT32: 'Int32Array',
  INT64: 'BigInt64Array',
  FP16: 'Uint16Array',
  FP32: 'Float32Array',
  FP64: 'Float64Array',
  BYTES: 'Array',
};

const hex = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/**
 * A tensor as plain values for deepEqual, with readable diffs: floats as their bit patterns (so -0, NaN
 * payloads and every last bit count), 64-bit integers as decimals, BYTES as hex, and the array's class.
 */
export function plain(tensor: Tensor): { type: DataType; shape: number[]; array: string; data: unknown[] } {
  const data = tensor.data;
  const common = { type: tensor.type, shape: [...tensor.shape], array: data.constructor.name };
  if (Array.isArray(data)) return { ...common, data: data.map(hex) };
  if (data instanceof Float32Array || data instanceof Float64Array) {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const size = data.BYTES_PER_ELEMENT;
    return { ...common, data: Array.from(data, (_, i) => hex(bytes.subarray(i * size, (i + 1) * size))) };
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array)
    return { ...common, data: Array.from(data, String) };
  return { ...common, data: Array.from(data) };
}

/** The decoded tensors are exactly the sent ones, by name (an object's key order is not the input order). */
export function assertSameTensors(
  actual: Readonly<Record<string, Tensor>>,
  expected: readonly NamedTensor[],
): void {
  assert.deepEqual(Object.keys(actual).sort(), expected.map((e) => e.name).sort());
  for (const { name, tensor } of expected) {
    const got = actual[name];
    assert.ok(got !== undefined, `input "${name}" is missing`);
    assert.deepEqual(plain(got), plain(tensor), `input "${name}"`);
  }
}

/** A decoded tensor is well formed: the array class of its type, non-negative integer dims, one value each. */
export function assertConsistent(tensor: Tensor): void {
  assert.equal(Array.isArray(tensor.data) ? 'Array' : tensor.data.constructor.name, ARRAY_OF[tensor.type]);
  assert.ok(
    tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0),
    `shape [${tensor.shape.join(',')}]`,
  );
  assert.equal(
    tensor.data.length,
    elementsOf(tensor.shape),
    `data length for shape [${tensor.shape.join(',')}]`,
  );
  if (Array.isArray(tensor.data)) assert.ok(tensor.data.every((e) => e instanceof Uint8Array));
}

export function assertWithinLimits(tensors: readonly Tensor[], limits: RequestLimits): void {
  let elements = 0;
  let strings = 0;
  for (const tensor of tensors) {
    const count = elementsOf(tensor.shape);
    assert.ok(count <= limits.maxTensorElements, `${count} elements > maxTensorElements`);
    elements += count;
    if (tensor.type === 'BYTES') strings += count;
  }
  assert.ok(elements <= limits.maxRequestElements, `${elements} elements > maxRequestElements`);
  assert.ok(strings <= limits.maxBytesElements, `${strings} BYTES elements > maxBytesElements`);
}

/** What a client's mistake may become: a 4xx. Anything else would be a 500 for a client's bytes. */
export const CLIENT_ERROR_KINDS: readonly ErrorKind[] = [
  'invalid_argument',
  'payload_too_large',
  'unsupported_media_type',
];

export function assertClientError(error: unknown): asserts error is SkiffError {
  if (!isSkiffError(error))
    assert.fail(
      `not a SkiffError: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
  assert.ok(CLIENT_ERROR_KINDS.includes(error.kind), `${error.code} (${error.kind}): ${error.message}`);
}

/** An IEEE half float's value, decoded here rather than with the code under test. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return exponent === 0 ? sign * fraction * 2 ** -24 : sign * (1024 + fraction) * 2 ** (exponent - 25);
}

/**
 * Whether `value` rounds to the finite half `bits` (round to nearest, ties to even). The midpoints between
 * neighbouring halves are exact doubles, so this is exact; above the largest half the next step is 65536.
 */
export function roundsToHalf(value: number, bits: number): boolean {
  if (value !== 0 && value < 0 !== ((bits & 0x8000) !== 0)) return false;
  const magnitude = bits & 0x7fff;
  const x = Math.abs(value);
  const at = halfToNumber(magnitude);
  const below = magnitude === 0 ? -halfToNumber(1) : halfToNumber(magnitude - 1);
  const above = magnitude === 0x7bff ? 65536 : halfToNumber(magnitude + 1);
  const low = (below + at) / 2;
  const high = (at + above) / 2;
  const even = magnitude % 2 === 0;
  return (x > low && x < high) || (even && (x === low || x === high));
}
