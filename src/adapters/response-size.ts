import type { Tensor } from '../core/tensor/tensor.js';
import { SkiffError } from '../core/errors.js';

/**
 * Characters one element can take in JSON, at most: a float32 printed in full ("-1.2345678901234567e-38,")
 * is 24; 64-bit integers ("-9223372036854775808,") 21; booleans 6. An upper bound, so the check errs on the
 * side of refusing before building.
 */
const JSON_CHARS_PER_NUMBER = 25;

/** An upper bound of a tensor's size as JSON `data`. */
export function estimateJsonBytes(tensor: Tensor): number {
  const data = tensor.data;
  // A BYTES element is a JSON string: every byte may need a \\u escape (6 characters), plus quotes and comma.
  if (Array.isArray(data)) return data.reduce((sum, element) => sum + 6 * element.byteLength + 3, 0);
  return data.length * JSON_CHARS_PER_NUMBER;
}

/** Refuses a response over the limit before it is encoded (SKIFF_RESPONSE_TOO_LARGE). */
export function checkResponseSize(estimatedBytes: number, maxResponseBytes: number): void {
  if (estimatedBytes > maxResponseBytes) {
    throw new SkiffError(
      'SKIFF_RESPONSE_TOO_LARGE',
      `the answer would be about ${estimatedBytes} bytes, more than the limit of ${maxResponseBytes} (--max-response-bytes); ask for fewer outputs, a smaller batch, or binary_data output`,
    );
  }
}
