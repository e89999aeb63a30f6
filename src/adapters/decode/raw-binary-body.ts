import type { TensorInfo } from '../../core/tensor/tensor.js';
import type { RequestLimits } from '../../core/request/request-limits.js';
import type { DecodedInfer } from './oip-codec.js';
import { SkiffError } from '../../core/errors.js';
import { ElementBudget } from '../../core/request/element-budget.js';
import { bytesPerElement } from '../../core/tensor/data-type.js';
import { elementCount } from '../../core/tensor/tensor.js';
import { tensorFromRaw } from '../../core/tensor/raw-tensor.js';

/**
 * Triton's raw binary request (`Inference-Header-Content-Length: 0`): the whole body is the bytes of the
 * model's only input, whose shape is worked out from the model and the byte count. A leading dynamic
 * dimension of a multi-dimensional input is the batch, taken as 1; at most one other dimension may be
 * dynamic, and it is what the bytes fill. A BYTES input must then hold one element: the body, as it is
 * (no length prefix). Every output comes back binary, as Triton answers such a request.
 */
export function decodeRawBinaryBody(
  model: string,
  version: string | undefined,
  body: Uint8Array,
  declared: readonly TensorInfo[] | undefined,
  limits: RequestLimits,
): DecodedInfer {
  // The route sends a raw binary request here only for a ready model, whose inputs it passes.
  if (declared === undefined) {
    throw new SkiffError(
      'SKIFF_BAD_REQUEST',
      `a raw binary request (Inference-Header-Content-Length: 0) needs model "${model}"'s inputs`,
    );
  }
  const [input, ...others] = declared;
  if (input === undefined || others.length > 0) {
    throw new SkiffError(
      'SKIFF_BAD_REQUEST',
      `a raw binary request (Inference-Header-Content-Length: 0) needs a model with one input; model "${model}" has ${declared.length}: send the JSON inference header`,
    );
  }
  const shape = input.shape.map((d, i) => (i === 0 && d < 0 && input.shape.length > 1 ? 1 : d));
  const dynamic = shape.flatMap((d, i) => (d < 0 ? [i] : []));
  const refuse = (why: string): SkiffError =>
    new SkiffError(
      'SKIFF_BAD_TENSOR',
      `input "${input.name}" (${input.type} [${input.shape.join(',')}]): a raw binary request ${why}`,
    );
  if (dynamic.length > 1) throw refuse('cannot tell more than one dynamic dimension from the byte count');
  const [open] = dynamic;
  if (input.type === 'BYTES') {
    if (open !== undefined) shape[open] = 1;
    if (elementCount(shape) !== 1) throw refuse('of BYTES needs an input of one element');
    budget(limits).add(input.name, input.type, shape);
    const element = new Uint8Array(4 + body.byteLength);
    new DataView(element.buffer).setUint32(0, body.byteLength, true);
    element.set(body, 4);
    return single(model, version, input, shape, element);
  }
  const size = bytesPerElement(input.type);
  const fixed = elementCount(shape.filter((d) => d >= 0)) * size;
  if (open !== undefined) {
    if (fixed === 0 || body.byteLength % fixed !== 0)
      throw refuse(`of ${body.byteLength} bytes does not fill whole elements of ${fixed} bytes`);
    shape[open] = body.byteLength / fixed;
  } else if (body.byteLength !== fixed) {
    throw refuse(`needs ${fixed} bytes, not ${body.byteLength}`);
  }
  budget(limits).add(input.name, input.type, shape);
  return single(model, version, input, shape, body);
}

function budget(limits: RequestLimits): ElementBudget {
  return new ElementBudget(limits);
}

function single(
  model: string,
  version: string | undefined,
  input: TensorInfo,
  shape: readonly number[],
  bytes: Uint8Array,
): DecodedInfer {
  return {
    request: {
      model,
      version,
      inputs: { [input.name]: tensorFromRaw(input.name, input.type, shape, bytes) },
    },
    binaryOutputs: new Set(['*']),
  };
}
