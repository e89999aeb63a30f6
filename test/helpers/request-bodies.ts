// Request bodies of every tensor protocol, written as the official clients write them, for the decoder fuzz
// tests: OIP JSON and its binary extension (tritonclient), gRPC through the real protobuf serializer, KServe
// V1 rows and columns, Seldon ndarray and tensor, and the seed's {"X": ...}.
import type { MethodDefinition } from '@grpc/grpc-js';
import fc from 'fast-check';
import type { DataType } from '../../src/core/tensor/data-type.js';
import type { Tensor } from '../../src/core/tensor/tensor.js';
import type { TensorMetadata } from '../../src/core/inference-types.js';
import type { ModelInferRequestMessage } from '../../src/adapters/grpc/grpc-codec.js';
import { loadInferenceService } from '../../src/adapters/grpc/inference-proto.js';
import type { NamedTensor } from './tensor-arbitraries.js';
import { halfToNumber, inputNameArb, roundsToHalf, tensorArb } from './tensor-arbitraries.js';

/** A JSON number written exactly as given (1e999, a 20-digit integer): what JSON.stringify cannot write. */
export class JsonLiteral {
  constructor(readonly text: string) {}
}

/**
 * JSON text as Python's json.dumps writes it, which is what most clients are: -0.0 keeps its sign, and
 * bigints are written as their digits (a number JSON.stringify refuses to write).
 */
export function writeJson(value: unknown): string {
  if (value instanceof JsonLiteral) return value.text;
  if (typeof value === 'number') return Object.is(value, -0) ? '-0.0' : JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(writeJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${writeJson(v)}`).join(',')}}`;
  }
  // undefined where an edit removed an array element: JSON has only null for it.
  return value === undefined ? 'null' : JSON.stringify(value);
}

/**
 * How floats are written: `double` as the exact double of the value (numpy's tolist() then json.dumps, as
 * tritonclient does), `shortest` as the fewest digits that read back to the same FP16/FP32 value (Go's
 * encoding/json for float32, Java's Float.toString, numpy's repr of a float32).
 */
export type FloatStyle = 'double' | 'shortest';

function shortest(value: number, same: (candidate: number) => boolean): number | JsonLiteral {
  if (value === 0) return value;
  for (let digits = 1; digits <= 17; digits++) {
    const text = value.toPrecision(digits);
    if (same(Number(text))) return new JsonLiteral(text);
  }
  return value;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A tensor's elements as JSON values, row-major: booleans, numbers, bigints for 64-bit integers, strings. */
export function jsonElements(tensor: Tensor, floats: FloatStyle = 'double'): unknown[] {
  const data = tensor.data;
  if (Array.isArray(data)) return data.map((element) => utf8.decode(element));
  switch (tensor.type) {
    case 'BOOL':
      return Array.from(data as Uint8Array, (v) => v !== 0);
    case 'FP16':
      return Array.from(data as Uint16Array, (bits) =>
        floats === 'shortest'
          ? shortest(halfToNumber(bits), (x) => roundsToHalf(x, bits))
          : halfToNumber(bits),
      );
    case 'FP32':
      return Array.from(data as Float32Array, (v) =>
        floats === 'shortest' ? shortest(v, (x) => Math.fround(x) === v) : v,
      );
    default:
      return Array.from(data as ArrayLike<unknown>);
  }
}

/** Flat row-major values nested to `shape` (a scalar for shape []). */
export function nest(flat: readonly unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  const [first = 0, ...rest] = shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), rest));
}

/** A batch tensor as its list of rows, each nested to the rest of the shape. */
export function rowsOf(tensor: Tensor, floats: FloatStyle = 'double'): unknown[] {
  return nest(jsonElements(tensor, floats), tensor.shape) as unknown[];
}

/**
 * The binary tensor layout, written here rather than by the code under test: little-endian (the typed
 * arrays' order on every host Skiff runs on), BYTES as a 4-byte little-endian length and the bytes.
 */
export function rawBytes(tensor: Tensor): Buffer {
  const data = tensor.data;
  if (!Array.isArray(data)) return Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return Buffer.concat(
    data.flatMap((element) => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(element.length);
      return [length, element];
    }),
  );
}

export interface OipInput {
  readonly input: NamedTensor;
  /** Sent in the binary section with `binary_data_size`, else as JSON `data`. */
  readonly binary: boolean;
  /** JSON data nested to the shape rather than flat (the protocol allows both). */
  readonly nested: boolean;
}

/** An OIP infer body: JSON, or a JSON header and the binary inputs after it, as tritonclient sends them. */
export function oipRequest(
  inputs: readonly OipInput[],
  floats: FloatStyle = 'double',
): { header: unknown; binary: Buffer[] } {
  const binary: Buffer[] = [];
  const header = {
    inputs: inputs.map(({ input: { name, tensor }, binary: isBinary, nested }) => {
      const base = { name, shape: [...tensor.shape], datatype: tensor.type };
      if (isBinary) {
        const bytes = rawBytes(tensor);
        binary.push(bytes);
        return { ...base, parameters: { binary_data_size: bytes.length } };
      }
      const flat = jsonElements(tensor, floats);
      return { ...base, data: nested && tensor.shape.length > 0 ? nest(flat, tensor.shape) : flat };
    }),
  };
  return { header, binary };
}

/** One to three inputs of an OIP request, each in JSON (flat or nested) or in the binary section. */
export function oipInputsArb(binary: boolean): fc.Arbitrary<OipInput[]> {
  return fc
    .uniqueArray(inputNameArb, { minLength: 1, maxLength: 3 })
    .chain((names) =>
      fc.tuple(
        ...names.map((name) =>
          fc
            .record({ binary: binary ? fc.boolean() : fc.constant(false), nested: fc.boolean() })
            .chain((form) =>
              tensorArb(form.binary ? 'raw' : 'json').map((tensor) => ({ ...form, input: { name, tensor } })),
            ),
        ),
      ),
    );
}

/** The body and Inference-Header-Content-Length of an OIP request (no header without binary inputs). */
export function oipBody(
  header: unknown,
  binary: readonly Buffer[],
): { body: Buffer; headerLength: number | undefined } {
  const json = Buffer.from(writeJson(header));
  if (binary.length === 0) return { body: json, headerLength: undefined };
  return { body: Buffer.concat([json, ...binary]), headerLength: json.length };
}

/** InferTensorContents' field for each datatype, from grpc_predict_v2.proto; FP16 has none. */
const CONTENTS_FIELD: Record<Exclude<DataType, 'FP16'>, string> = {
  BOOL: 'bool_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

export function typedContents(tensor: Tensor): Record<string, unknown[]> {
  if (tensor.type === 'FP16') throw new Error('FP16 has no typed contents');
  const data = tensor.data;
  const values: unknown[] = Array.isArray(data)
    ? data.map((element) => Buffer.from(element))
    : tensor.type === 'BOOL'
      ? Array.from(data as Uint8Array, (v) => v !== 0)
      : data instanceof BigInt64Array || data instanceof BigUint64Array
        ? Array.from(data, String)
        : Array.from(data as ArrayLike<unknown>);
  return { [CONTENTS_FIELD[tensor.type]]: values };
}

/** A ModelInferRequest as a plain object: every input in typed contents, or all in raw_input_contents. */
export function modelInferRequest(
  inputs: readonly NamedTensor[],
  form: 'typed' | 'raw',
): Record<string, unknown> {
  return {
    model_name: 'm',
    inputs: inputs.map(({ name, tensor }) => ({
      name,
      datatype: tensor.type,
      shape: [...tensor.shape],
      ...(form === 'typed' ? { contents: typedContents(tensor) } : {}),
    })),
    ...(form === 'raw' ? { raw_input_contents: inputs.map(({ tensor }) => rawBytes(tensor)) } : {}),
  };
}

let method: MethodDefinition<object, unknown> | undefined;

/** ModelInfer as the server loads it: the same .proto, loader options and protobufjs. */
function modelInfer(): MethodDefinition<object, unknown> {
  method ??= loadInferenceService().ModelInfer as MethodDefinition<object, unknown>;
  return method;
}

export function serializeModelInfer(message: object): Buffer {
  return modelInfer().requestSerialize(message);
}

/** The deserializer the server hands the decoders (grpc-server.ts, decode-worker.ts). */
export function deserializeModelInfer(bytes: Uint8Array): ModelInferRequestMessage {
  return modelInfer().requestDeserialize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** KServe V1 `instances`: the rows of a one-input model, or rows keyed by input name. */
export function v1Instances(inputs: readonly NamedTensor[], keyed: boolean): { instances: unknown[] } {
  const [only] = inputs;
  if (only !== undefined && inputs.length === 1 && !keyed) return { instances: rowsOf(only.tensor) };
  const rows = inputs.map(({ name, tensor }) => ({ name, rows: rowsOf(tensor) }));
  const batch = inputs[0]?.tensor.shape[0] ?? 0;
  return {
    instances: Array.from({ length: batch }, (_, i) =>
      Object.fromEntries(rows.map((r) => [r.name, r.rows[i]])),
    ),
  };
}

/** KServe V1 columnar `inputs`: one tensor, or an object of tensors by input name. */
export function v1Columns(inputs: readonly NamedTensor[], keyed: boolean): { inputs: unknown } {
  const [only] = inputs;
  if (only !== undefined && inputs.length === 1 && !keyed) return { inputs: rowsOf(only.tensor) };
  return { inputs: Object.fromEntries(inputs.map(({ name, tensor }) => [name, rowsOf(tensor)])) };
}

/** A model's inputs as its metadata shows them, the batch dimension dynamic. */
export function metadataOf(inputs: readonly NamedTensor[]): TensorMetadata[] {
  return inputs.map(({ name, tensor }) => ({
    name,
    datatype: tensor.type,
    shape: [-1, ...tensor.shape.slice(1)],
  }));
}
