import type { DataType, TensorData } from './data-type.js';
import type { Tensor, TensorInfo } from './tensor.js';
import { bytesPerElement } from './data-type.js';
import { elementCount } from './tensor.js';
import { SkiffError } from '../errors.js';

/**
 * Decodes a tensor from the binary layout shared by the OIP binary extension and gRPC raw contents:
 * little-endian, row-major; BOOL one byte each; BYTES as 4-byte little-endian length + bytes per element.
 * Throws SKIFF_BAD_TENSOR when the byte count does not fit the shape. With `owned`, the caller gives the bytes
 * away: when they are a whole ArrayBuffer they become the tensor's data as they are (aligned, and movable to
 * another thread); otherwise, and without it, they are copied.
 */
export function tensorFromRaw(
  name: string,
  type: DataType,
  shape: readonly number[],
  bytes: Uint8Array,
  options: { readonly owned?: boolean } = {},
): Tensor {
  const count = elementCount(shape);
  if (type === 'BYTES') return { type, shape, data: splitBytes(name, bytes, count) };
  const size = bytesPerElement(type);
  if (bytes.byteLength !== count * size) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `input "${name}": ${bytes.byteLength} bytes of binary data do not fit shape [${shape.join(',')}] of ${type} (${count * size} bytes expected)`,
    );
  }
  const whole =
    options.owned === true &&
    bytes.byteOffset === 0 &&
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteLength === bytes.buffer.byteLength;
  // Otherwise copy into an aligned buffer: the bytes may sit at any offset of a larger body.
  const copy = whole ? new Uint8Array(bytes.buffer) : new Uint8Array(bytes);
  const buffer = copy.buffer;
  const data: TensorData = (() => {
    switch (type) {
      case 'BOOL':
      case 'UINT8':
        return copy;
      case 'INT8':
        return new Int8Array(buffer);
      case 'UINT16':
      case 'FP16':
        return new Uint16Array(buffer);
      case 'INT16':
        return new Int16Array(buffer);
      case 'UINT32':
        return new Uint32Array(buffer);
      case 'INT32':
        return new Int32Array(buffer);
      case 'UINT64':
        return new BigUint64Array(buffer);
      case 'INT64':
        return new BigInt64Array(buffer);
      case 'FP32':
        return new Float32Array(buffer);
      case 'FP64':
        return new Float64Array(buffer);
    }
  })();
  return { type, shape, data };
}

/**
 * A tensor of zeros (empty strings for BYTES) shaped as `info`, each dynamic dimension taken as 1: all-zero
 * bytes in the raw layout, where a zero length prefix is an empty string.
 */
export function zeroTensor(info: TensorInfo): Tensor {
  const shape = info.shape.map((d) => (d < 0 ? 1 : d));
  const size = info.type === 'BYTES' ? 4 : bytesPerElement(info.type);
  return tensorFromRaw(info.name, info.type, shape, new Uint8Array(elementCount(shape) * size));
}

/** How many bytes `tensorToRaw` will produce, without producing them. */
export function rawByteLength(tensor: Tensor): number {
  const data = tensor.data;
  if (Array.isArray(data)) return data.reduce((sum, element) => sum + 4 + element.byteLength, 0);
  return data.byteLength;
}

/** Encodes a tensor in the same layout; the result may share memory with the tensor. */
export function tensorToRaw(tensor: Tensor): Uint8Array {
  const data = tensor.data;
  if (Array.isArray(data)) {
    const total = data.reduce((sum, element) => sum + 4 + element.byteLength, 0);
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    let at = 0;
    for (const element of data) {
      view.setUint32(at, element.byteLength, true);
      out.set(element, at + 4);
      at += 4 + element.byteLength;
    }
    return out;
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function splitBytes(name: string, bytes: Uint8Array, count: number): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    // Checked as it goes: data claiming far more elements than the shape must not build them all first.
    if (elements.length === count) {
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `input "${name}": the BYTES data holds more elements than a shape with ${count} elements`,
      );
    }
    if (at + 4 > bytes.byteLength)
      throw new SkiffError('SKIFF_BAD_TENSOR', `input "${name}": BYTES data ends inside a length prefix`);
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.byteLength) {
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `input "${name}": BYTES element ${elements.length} claims ${length} bytes past the end of the data`,
      );
    }
    // A copy: on a Node Buffer `slice` would be a view that keeps the whole request body alive.
    elements.push(Uint8Array.prototype.slice.call(bytes, at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (elements.length !== count) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `input "${name}": ${elements.length} BYTES elements do not fit a shape with ${count} elements`,
    );
  }
  return elements;
}
