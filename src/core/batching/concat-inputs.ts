import type { Tensor } from '../tensor/tensor.js';
import type { TensorData } from '../tensor/data-type.js';

/** One batch from several requests' inputs (same names, types and non-batch dims): rows one after another. */
export function concatInputs(list: readonly Readonly<Record<string, Tensor>>[]): Record<string, Tensor> {
  const [first] = list;
  if (first === undefined) return {};
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(first)) {
    const parts = list.map((inputs) => inputs[name]).filter((t): t is Tensor => t !== undefined);
    const [head] = parts;
    if (head === undefined) continue;
    const rows = parts.reduce((sum, t) => sum + (t.shape[0] ?? 0), 0);
    out[name] = {
      type: head.type,
      shape: [rows, ...head.shape.slice(1)],
      data: concatData(parts.map((t) => t.data)),
    };
  }
  return out;
}

function concatData(parts: readonly TensorData[]): TensorData {
  const [head] = parts;
  if (head === undefined) return new Float32Array(0);
  if (Array.isArray(head)) return parts.flatMap((p) => p as Uint8Array[]);
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const Constructor = head.constructor as new (length: number) => Exclude<TensorData, Uint8Array[]>;
  const out = new Constructor(total);
  let at = 0;
  for (const part of parts) {
    (out as unknown as { set(source: ArrayLike<unknown>, offset: number): void }).set(part, at);
    at += part.length;
  }
  return out;
}
