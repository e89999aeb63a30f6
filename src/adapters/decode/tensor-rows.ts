import type { TensorMetadata } from '../../core/inference-types.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import { SkiffError } from '../../core/errors.js';
import { tensorFromJson, tensorToJson } from '../../core/tensor/json-tensor.js';
import type { ElementBudget } from '../../core/request/element-budget.js';

/**
 * Row-oriented JSON (KServe V1 `instances`, Seldon `ndarray`, the seed's `X`) as a batch tensor for one
 * model input: the batch is the number of rows, the rest of the shape comes from the first row's nesting.
 * The shape is added to the request's element budget before the rows are flattened.
 */
export function rowsToTensor(input: TensorMetadata, rows: unknown, budget: ElementBudget): Tensor {
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new SkiffError('SKIFF_BAD_TENSOR', `input "${input.name}": expected a non-empty list of rows`);
  }
  const shape = [rows.length, ...nesting(rows[0])];
  budget.add(input.name, input.datatype, shape);
  checkRectangular(input.name, rows, shape, 0);
  return tensorFromJson(input.name, input.datatype, shape, rows);
}

/**
 * Every row nested exactly as the first: rows of different lengths would otherwise be flattened and cut
 * again to the first one's shape, giving one row's prediction another row's features (numpy, behind KServe
 * and Seldon, refuses them too). Linear in the elements, which the budget has already bounded.
 */
function checkRectangular(name: string, value: unknown, shape: readonly number[], depth: number): void {
  const expected = shape[depth];
  if (expected === undefined) {
    if (Array.isArray(value))
      throw new SkiffError('SKIFF_BAD_TENSOR', `input "${name}": the rows are not all nested alike`);
    return;
  }
  if (!Array.isArray(value) || value.length !== expected) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `input "${name}": every row must have the shape [${shape.slice(1).join(',')}] of the first`,
    );
  }
  for (const item of value) checkRectangular(name, item, shape, depth + 1);
}

/** A batch tensor back as one nested JSON value per row. */
export function tensorToRows(tensor: Tensor): unknown[] {
  const flat = tensorToJson(tensor);
  const [batch = 1, ...rest] = tensor.shape.length === 0 ? [1] : tensor.shape;
  const perRow = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: batch }, (_, row) => nest(flat.slice(row * perRow, (row + 1) * perRow), rest));
}

export function nest(flat: readonly unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  const [first = 0, ...rest] = shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), rest));
}

function nesting(value: unknown): number[] {
  const dims: number[] = [];
  let current = value;
  while (Array.isArray(current)) {
    dims.push(current.length);
    current = current[0];
    if (dims.length > 32) break;
  }
  return dims;
}
