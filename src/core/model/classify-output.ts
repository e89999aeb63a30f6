import type { Labels } from './labels.js';
import type { Tensor } from '../tensor/tensor.js';
import { numberAt } from '../tensor/tensor.js';

/**
 * The classification extension: each row of an output becomes its top-N entries as BYTES strings
 * "value:index" or "value:index:label", largest first, with the raw output values (no softmax), as Triton
 * does. A background class, when the model has one, is skipped and indices refer to the real classes.
 */
export function classifyOutput(
  tensor: Tensor,
  n: number,
  labels: Labels | undefined,
  background: boolean,
): Tensor {
  const batch = tensor.shape.length > 1 ? (tensor.shape[0] ?? 1) : 1;
  const rowLength = batch === 0 ? 0 : tensor.data.length / batch;
  const skip = background ? 1 : 0;
  const classes = rowLength - skip;
  const take = Math.min(n, classes);
  const encoder = new TextEncoder();
  const data: Uint8Array[] = [];
  for (let row = 0; row < batch; row++) {
    const scored: { index: number; value: number }[] = [];
    for (let i = 0; i < classes; i++)
      scored.push({ index: i, value: numberAt(tensor, row * rowLength + skip + i) });
    scored.sort((a, b) => b.value - a.value || a.index - b.index);
    for (const { index, value } of scored.slice(0, take)) {
      const label = labels?.short[index];
      data.push(encoder.encode(label === undefined ? `${value}:${index}` : `${value}:${index}:${label}`));
    }
  }
  return { type: 'BYTES', shape: tensor.shape.length > 1 ? [batch, take] : [take], data };
}
