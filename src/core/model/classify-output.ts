import type { Tensor } from '../tensor/tensor.js';
import { numberAt } from '../tensor/tensor.js';

/**
 * The classification extension: each row of an output becomes its top-N entries as BYTES strings
 * "value:index" or "value:index:label", largest first, with the raw output values (no softmax). As in
 * Triton, every element of the row competes and `index` is the element's index in the output tensor, so a
 * client that indexes the output itself (or Triton's label file) finds the same class. `labelAt` names an
 * index, or not (a model's background class has no label of Skiff's).
 */
export function classifyOutput(
  tensor: Tensor,
  n: number,
  labelAt: (index: number) => string | undefined,
): Tensor {
  const batch = tensor.shape.length > 1 ? (tensor.shape[0] ?? 1) : 1;
  const rowLength = batch === 0 ? 0 : tensor.data.length / batch;
  const take = Math.min(n, rowLength);
  const encoder = new TextEncoder();
  const data: Uint8Array[] = [];
  for (let row = 0; row < batch; row++) {
    const scored: { index: number; value: number }[] = [];
    for (let i = 0; i < rowLength; i++)
      scored.push({ index: i, value: numberAt(tensor, row * rowLength + i) });
    scored.sort((a, b) => b.value - a.value || a.index - b.index);
    for (const { index, value } of scored.slice(0, take)) {
      const label = labelAt(index);
      data.push(encoder.encode(label === undefined ? `${value}:${index}` : `${value}:${index}:${label}`));
    }
  }
  return { type: 'BYTES', shape: tensor.shape.length > 1 ? [batch, take] : [take], data };
}
