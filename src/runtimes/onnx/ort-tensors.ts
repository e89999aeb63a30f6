// Runs in the inference worker: conversions between what crosses the thread boundary and ORT's tensors.
import './without-float16-array.js';
import ort from 'onnxruntime-node';
import type { WireTensor } from './worker-messages.js';
import type { TensorInfo } from '../../core/tensor/tensor.js';
import type { TensorData } from '../../core/tensor/data-type.js';
import { ORT_TYPE_OF, dataTypeOf } from './ort-types.js';

/** The model's inputs or outputs as Skiff describes them; an unknown dimension is -1. */
export function describe(metadata: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] {
  return metadata.map((m) => {
    const type = m.isTensor ? dataTypeOf(m.type) : undefined;
    const shape = m.isTensor ? m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) : [];
    return { name: m.name, type: type ?? 'BYTES', shape };
  });
}

/** An ORT tensor over the wire tensor's own data (strings are decoded from their UTF-8 bytes). */
export function toOrt(tensor: WireTensor): ort.Tensor {
  const dims = [...tensor.shape];
  if (tensor.type === 'BYTES') {
    const decoder = new TextDecoder();
    return new ort.Tensor(
      'string',
      (tensor.data as Uint8Array[]).map((b) => decoder.decode(b)),
      dims,
    );
  }
  return new ort.Tensor(ORT_TYPE_OF[tensor.type], tensor.data as Exclude<TensorData, Uint8Array[]>, dims);
}

/** Feeds for a run: one ORT tensor per wire tensor, named alike. */
export function feedsOf(inputs: Record<string, WireTensor>): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, toOrt(t)]));
}

/** A run's results as wire tensors, and the buffers to transfer (not copy) with them. */
export function wireOutputs(results: ort.InferenceSession.ReturnType): {
  outputs: Record<string, WireTensor>;
  transfer: ArrayBuffer[];
} {
  const outputs: Record<string, WireTensor> = {};
  const transfer: ArrayBuffer[] = [];
  for (const [name, tensor] of Object.entries(results)) {
    const wire = fromOrt(tensor);
    outputs[name] = wire;
    if (
      !Array.isArray(wire.data) &&
      wire.data.buffer instanceof ArrayBuffer &&
      !transfer.includes(wire.data.buffer)
    ) {
      transfer.push(wire.data.buffer);
    }
  }
  return { outputs, transfer };
}

function fromOrt(tensor: ort.Tensor): WireTensor {
  const type = dataTypeOf(tensor.type) ?? 'FP32';
  if (type === 'BYTES') {
    const encoder = new TextEncoder();
    return { type, shape: [...tensor.dims], data: (tensor.data as string[]).map((s) => encoder.encode(s)) };
  }
  return { type, shape: [...tensor.dims], data: tensor.data as Exclude<TensorData, Uint8Array[]> };
}
