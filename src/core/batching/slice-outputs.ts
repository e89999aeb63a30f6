import type { Tensor } from '../tensor/tensor.js';
import { SkiffError } from '../errors.js';

/** Rows [offset, offset + rows) of every output whose first dimension is the whole batch. */
export function sliceOutputs(
  outputs: Record<string, Tensor>,
  offset: number,
  rows: number,
  total: number,
): Record<string, Tensor> {
  const own: Record<string, Tensor> = {};
  for (const [name, tensor] of Object.entries(outputs)) {
    if (tensor.shape[0] !== total) {
      throw new SkiffError(
        'SKIFF_INFERENCE_FAILED',
        `output "${name}" has shape [${tensor.shape.join(',')}], not one row per batched input; this model cannot be batched`,
      );
    }
    const perRow = total === 0 ? 0 : tensor.data.length / total;
    own[name] = {
      type: tensor.type,
      shape: [rows, ...tensor.shape.slice(1)],
      data: tensor.data.slice(offset * perRow, (offset + rows) * perRow),
    };
  }
  return own;
}
