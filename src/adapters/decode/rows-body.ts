import type { TensorMetadata } from '../../core/inference-types.js';
import type { RequestLimits } from '../../core/request/request-limits.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import { SkiffError } from '../../core/errors.js';
import { ElementBudget } from '../../core/request/element-budget.js';
import { rowsToTensor } from './tensor-rows.js';

/** The seed's JSON form once decoded: the tensor, and whether one row (not a list of rows) was sent. */
export interface DecodedRows {
  readonly tensor: Tensor;
  readonly single: boolean;
}

/** The seed's `{"X": [features]}` (one row) or `{"X": [[row], [row]]}` for a model with one 2-D input. */
export function decodeRowsBody(body: unknown, input: TensorMetadata, limits: RequestLimits): DecodedRows {
  const x =
    body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>).X
      : undefined;
  if (!Array.isArray(x) || x.length === 0) {
    throw new SkiffError(
      'SKIFF_BAD_REQUEST',
      '"X" cannot be found in the JSON payload: send {"X": [features]} or {"X": [[row], [row]]}',
    );
  }
  const single = !Array.isArray(x[0]);
  return { tensor: rowsToTensor(input, single ? [x] : x, new ElementBudget(limits)), single };
}
