import type { DataType } from '../tensor/data-type.js';
import type { RequestLimits } from './request-limits.js';
import { SkiffError } from '../errors.js';
import { elementCount } from '../tensor/tensor.js';

/**
 * Counts what one request's inputs will hold, from their shapes, before any data is converted: elements
 * per tensor and in all, and BYTES elements (each becomes an object of its own, so a few million empty
 * strings cost seconds and gigabytes though the body is small). One per request; every decoder adds each
 * input to it as soon as the input's shape is known. Throws SKIFF_TENSOR_TOO_LARGE naming the limit.
 */
export class ElementBudget {
  private elements = 0;
  private strings = 0;

  constructor(
    private readonly limits: Pick<
      RequestLimits,
      'maxTensorElements' | 'maxRequestElements' | 'maxBytesElements'
    >,
  ) {}

  add(name: string, type: DataType, shape: readonly number[]): void {
    const count = elementCount(shape);
    if (count > this.limits.maxTensorElements) {
      throw new SkiffError(
        'SKIFF_TENSOR_TOO_LARGE',
        `input "${name}": shape [${shape.join(',')}] has ${count} elements, more than the limit of ${this.limits.maxTensorElements} (--max-tensor-elements)`,
      );
    }
    this.elements += count;
    if (this.elements > this.limits.maxRequestElements) {
      throw new SkiffError(
        'SKIFF_TENSOR_TOO_LARGE',
        `the request's inputs have ${this.elements} elements together, more than the limit of ${this.limits.maxRequestElements} (--max-request-elements)`,
      );
    }
    if (type !== 'BYTES') return;
    this.strings += count;
    if (this.strings > this.limits.maxBytesElements) {
      throw new SkiffError(
        'SKIFF_TENSOR_TOO_LARGE',
        `the request has ${this.strings} BYTES elements, more than the limit of ${this.limits.maxBytesElements} (--max-bytes-elements); send fewer, longer strings`,
      );
    }
  }
}
