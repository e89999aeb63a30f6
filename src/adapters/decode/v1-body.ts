import type { TensorMetadata } from '../../core/inference-types.js';
import type { RequestLimits } from '../../core/request/request-limits.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import { SkiffError } from '../../core/errors.js';
import { ElementBudget } from '../../core/request/element-budget.js';
import { rowsToTensor } from './tensor-rows.js';

/** A KServe V1 predict body once decoded: images to classify, or tensors for the model's inputs. */
export type DecodedV1 =
  | { readonly kind: 'images'; readonly images: readonly Uint8Array[] }
  | { readonly kind: 'tensors'; readonly inputs: Record<string, Tensor> };

interface V1Body {
  readonly instances?: unknown;
  readonly inputs?: unknown;
}

/**
 * KServe V1 / TF-Serving predict: `{"instances": [...]}` (row format) or `{"inputs": ...}` (columnar), the
 * rows either plain values (one-input models) or objects keyed by input name. Instances that are all
 * `{"b64": ...}` (or TF-Serving's `{"image_bytes": {"b64": ...}}`) are images. The instance count and every
 * input's shape are checked before any row is converted.
 */
export function decodeV1Body(
  body: unknown,
  inputs: readonly TensorMetadata[],
  limits: RequestLimits,
): DecodedV1 {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new SkiffError('SKIFF_BAD_REQUEST', 'expected a JSON object with "instances" or "inputs"');
  const { instances, inputs: columns } = body as V1Body;
  if (Array.isArray(instances) && instances.length > limits.maxInstances) {
    throw new SkiffError(
      'SKIFF_TOO_MANY_INSTANCES',
      `${instances.length} instances in one request; the limit is ${limits.maxInstances} (--max-instances)`,
    );
  }
  const images = imageInstances(instances);
  if (images !== undefined) return { kind: 'images', images };
  const budget = new ElementBudget(limits);
  // No prototype: an input may be called "constructor" or "__proto__" like any other name.
  const tensors = Object.create(null) as Record<string, Tensor>;
  const [only, ...more] = inputs;
  if (instances !== undefined) {
    if (!Array.isArray(instances)) throw new SkiffError('SKIFF_BAD_TENSOR', '"instances" must be a list');
    const keyed = instances.length > 0 && instances.every(isObject);
    if (only !== undefined && more.length === 0 && !keyed) {
      tensors[only.name] = rowsToTensor(only, instances, budget);
    } else {
      for (const input of inputs) {
        tensors[input.name] = rowsToTensor(
          input,
          instances.map((row: unknown) => (isObject(row) ? row[input.name] : undefined)),
          budget,
        );
      }
    }
  } else if (columns !== undefined) {
    if (Array.isArray(columns) && only !== undefined && more.length === 0) {
      tensors[only.name] = rowsToTensor(only, columns, budget);
    } else if (isObject(columns)) {
      for (const input of inputs) tensors[input.name] = rowsToTensor(input, columns[input.name], budget);
    } else {
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        '"inputs" must be a tensor (for a one-input model) or an object of tensors by input name',
      );
    }
  } else {
    throw new SkiffError('SKIFF_BAD_REQUEST', 'the request needs "instances" or "inputs"');
  }
  return { kind: 'tensors', inputs: tensors };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function imageInstances(instances: unknown): Uint8Array[] | undefined {
  if (!Array.isArray(instances) || instances.length === 0) return undefined;
  const images: Uint8Array[] = [];
  for (const instance of instances) {
    const holder = isObject(instance) ? instance : undefined;
    const inner = holder !== undefined && isObject(holder.image_bytes) ? holder.image_bytes : holder;
    const b64 = inner?.b64;
    if (typeof b64 !== 'string') return undefined;
    images.push(Buffer.from(b64, 'base64'));
  }
  return images;
}
