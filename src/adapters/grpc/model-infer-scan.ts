import type { RequestLimits } from '../../core/request/request-limits.js';
import { SkiffError } from '../../core/errors.js';

/**
 * Field numbers of grpc_predict_v2.proto that hold repeated data: what a ModelInferRequest can make the
 * server build. ModelInferRequest: inputs = 5, outputs = 6, raw_input_contents = 7; InferInputTensor:
 * contents = 5; InferTensorContents: bool 1, int 2, int64 3, uint 4, uint64 5, fp32 6, fp64 7, bytes 8.
 */
const REQUEST_INPUTS = 5;
const REQUEST_OUTPUTS = 6;
const INPUT_CONTENTS = 5;
const BYTES_CONTENTS = 8;
/** Bytes per element of the packed fixed-width contents (fp32, fp64); the others are varints. */
const FIXED_WIDTH: Readonly<Record<number, number>> = { 6: 4, 7: 8 };

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

/** At most this many requested outputs: a model has a handful; thousands are an attack on the answer. */
export const MAX_REQUESTED_OUTPUTS = 256;

/**
 * Reads a serialized ModelInferRequest's wire format without decoding it, and counts what decoding would
 * build: typed content elements, BYTES elements (one object each) and requested outputs. Refuses before the
 * cost (SKIFF_TENSOR_TOO_LARGE, SKIFF_BAD_TENSOR for too many outputs, SKIFF_BAD_REQUEST for a message that
 * is not valid protobuf). Linear in the message size and allocation-free.
 */
export function scanModelInfer(message: Uint8Array, limits: RequestLimits): void {
  const counts = { elements: 0, strings: 0, outputs: 0 };
  forEachField(message, 0, message.length, (field, wire, start, end) => {
    if (field === REQUEST_OUTPUTS) counts.outputs += embedded(wire);
    if (field !== REQUEST_INPUTS) return;
    embedded(wire);
    forEachField(message, start, end, (inputField, inputWire, from, to) => {
      if (inputField !== INPUT_CONTENTS) return;
      embedded(inputWire);
      forEachField(message, from, to, (contentsField, contentsWire, a, b) => {
        if (contentsField === BYTES_CONTENTS) counts.strings += embedded(contentsWire);
        else if (contentsWire === WIRE_LENGTH) counts.elements += packedCount(message, a, b, contentsField);
        else counts.elements++;
      });
    });
  });
  counts.elements += counts.strings;
  if (counts.outputs > MAX_REQUESTED_OUTPUTS) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `the request names ${counts.outputs} outputs; at most ${MAX_REQUESTED_OUTPUTS} (each output once)`,
    );
  }
  if (counts.elements > limits.maxRequestElements) {
    throw new SkiffError(
      'SKIFF_TENSOR_TOO_LARGE',
      `the request's contents hold ${counts.elements} elements, more than the limit of ${limits.maxRequestElements} (--max-request-elements)`,
    );
  }
  if (counts.strings > limits.maxBytesElements) {
    throw new SkiffError(
      'SKIFF_TENSOR_TOO_LARGE',
      `the request has ${counts.strings} BYTES elements, more than the limit of ${limits.maxBytesElements} (--max-bytes-elements); send fewer, longer strings`,
    );
  }
}

/**
 * The fields the scan counts or descends into are length-delimited; protobufjs does not check the wire type
 * of a known field, so another type there would be read as a length the scan never counted: refused.
 */
function embedded(wire: number): 1 {
  if (wire !== WIRE_LENGTH) throw malformed();
  return 1;
}

const MODEL_NAME = 1;
const MODEL_VERSION = 2;
const RAW_INPUT_CONTENTS = 7;

/**
 * How many bytes of a serialized ModelInferRequest are raw_input_contents: decoding hands those out as views and
 * copies each once, so only the rest of the message is parsed into objects. 0 for a message that is not valid
 * protobuf (decoding it says so). Reads the top-level fields only.
 */
export function rawContentsBytes(message: Uint8Array): number {
  let raw = 0;
  try {
    forEachField(message, 0, message.length, (field, wire, start, end) => {
      if (field === RAW_INPUT_CONTENTS && wire === WIRE_LENGTH) raw += end - start;
    });
  } catch {
    return 0;
  }
  return raw;
}

/**
 * model_name (1) and model_version (2) of a serialized ModelInferRequest, read from the top-level fields
 * only (tensors are skipped over, not decoded), so the model can be looked up before the body is decoded.
 * Throws SKIFF_BAD_REQUEST for a message that is not valid protobuf.
 */
export function readModelRef(message: Uint8Array): { readonly name: string; readonly version: string } {
  const ref = { name: '', version: '' };
  const decoder = new TextDecoder();
  forEachField(message, 0, message.length, (field, wire, start, end) => {
    if (wire !== WIRE_LENGTH) return;
    // proto3: the last occurrence of a singular field wins.
    if (field === MODEL_NAME) ref.name = decoder.decode(message.subarray(start, end));
    else if (field === MODEL_VERSION) ref.version = decoder.decode(message.subarray(start, end));
  });
  return ref;
}

type FieldVisitor = (field: number, wire: number, start: number, end: number) => void;

/** Calls `visit` for each field of the message in bytes [from, to): for length-delimited ones, their body. */
function forEachField(bytes: Uint8Array, from: number, to: number, visit: FieldVisitor): void {
  let at = from;
  while (at < to) {
    const [key, afterKey] = readKey(bytes, at, to);
    const field = key >>> 3;
    const wire = key & 7;
    let end: number;
    let start = afterKey;
    switch (wire) {
      case WIRE_VARINT:
        end = readVarint(bytes, afterKey, to)[1];
        break;
      case WIRE_FIXED64:
        end = afterKey + 8;
        break;
      case WIRE_FIXED32:
        end = afterKey + 4;
        break;
      case WIRE_LENGTH: {
        const [length, afterLength] = readVarint(bytes, afterKey, to);
        start = afterLength;
        end = afterLength + length;
        break;
      }
      default:
        throw malformed();
    }
    if (end > to || field === 0) throw malformed();
    visit(field, wire, start, end);
    at = end;
  }
}

/** Elements in a packed repeated field: fixed-width ones by size, varints by their final bytes. */
function packedCount(bytes: Uint8Array, from: number, to: number, field: number): number {
  const width = FIXED_WIDTH[field];
  if (width !== undefined) return Math.floor((to - from) / width);
  let count = 0;
  for (let i = from; i < to; i++) if ((bytes[i] ?? 0) < 0x80) count++;
  return count;
}

function readVarint(bytes: Uint8Array, at: number, to: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = at; i < to && i < at + 10; i++) {
    const byte = bytes[i] ?? 0;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, i + 1];
    scale *= 128;
  }
  throw malformed();
}

/**
 * A field key as protobufjs reads it: a varint of which only the low 32 bits count (a longer one must not
 * name a different field to the scan than to the decoder).
 */
function readKey(bytes: Uint8Array, at: number, to: number): [number, number] {
  let low = 0;
  for (let i = at; i < to && i < at + 10; i++) {
    const byte = bytes[i] ?? 0;
    const shift = 7 * (i - at);
    if (shift < 32) low |= (byte & 0x7f) << shift;
    if (byte < 0x80) return [low >>> 0, i + 1];
  }
  throw malformed();
}

function malformed(): SkiffError {
  return new SkiffError('SKIFF_BAD_REQUEST', 'the ModelInferRequest is not a valid protobuf message');
}
