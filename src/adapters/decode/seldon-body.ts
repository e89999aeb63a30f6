import type { TensorMetadata } from '../../core/inference-types.js';
import type { RequestLimits } from '../../core/request/request-limits.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import { SkiffError } from '../../core/errors.js';
import { ElementBudget } from '../../core/request/element-budget.js';
import { tensorFromJson } from '../../core/tensor/json-tensor.js';
import { rowsToTensor } from './tensor-rows.js';

/** A Seldon v1 message once decoded: an image (binData), or the one input's tensor and the form it came in. */
export type DecodedSeldon =
  | { readonly kind: 'image'; readonly image: Uint8Array }
  | { readonly kind: 'tensor'; readonly tensor: Tensor; readonly form: 'tensor' | 'ndarray' };

interface SeldonMessage {
  readonly data?: unknown;
  readonly binData?: unknown;
  readonly strData?: unknown;
  readonly jsonData?: unknown;
}

interface SeldonData {
  readonly ndarray?: unknown;
  readonly tensor?: unknown;
}

/**
 * Seldon Core v1 for a one-input model: `data.ndarray` or `data.tensor` in, or `binData` (a base64 image).
 * The tensor's shape is checked before its values are converted.
 */
export function decodeSeldonBody(
  body: unknown,
  input: TensorMetadata | undefined,
  limits: RequestLimits,
): DecodedSeldon {
  if (body === null || typeof body !== 'object')
    throw new SkiffError(
      'SKIFF_BAD_REQUEST',
      'expected a Seldon message: {"data": {"ndarray": ...}} or {"binData": ...}',
    );
  const message = body as SeldonMessage;
  if (typeof message.binData === 'string')
    return { kind: 'image', image: Buffer.from(message.binData, 'base64') };
  if (message.strData !== undefined || message.jsonData !== undefined) {
    throw new SkiffError(
      'SKIFF_BAD_REQUEST',
      'strData and jsonData requests are not supported; send data.ndarray, data.tensor or binData',
    );
  }
  const raw = message.data;
  if (raw === null || typeof raw !== 'object')
    throw new SkiffError('SKIFF_BAD_REQUEST', 'the message has no "data", "binData" or "strData"');
  if (input === undefined) throw new SkiffError('SKIFF_BAD_TENSOR', 'the Seldon protocol feeds one input');
  const data = raw as SeldonData;
  const budget = new ElementBudget(limits);
  const spec = data.tensor;
  if (spec === undefined)
    return { kind: 'tensor', tensor: rowsToTensor(input, data.ndarray, budget), form: 'ndarray' };
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    throw new SkiffError('SKIFF_BAD_TENSOR', 'data.tensor must be an object with "shape" and "values"');
  const { shape, values } = spec as { shape?: unknown; values?: unknown };
  if (
    !Array.isArray(shape) ||
    !shape.every((d): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
  )
    throw new SkiffError('SKIFF_BAD_TENSOR', 'data.tensor.shape must be a list of non-negative integers');
  budget.add(input.name, input.datatype, shape);
  return {
    kind: 'tensor',
    tensor: tensorFromJson(input.name, input.datatype, shape, values),
    form: 'tensor',
  };
}
