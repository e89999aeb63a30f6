import type { Labels } from './labels.js';
import type { ClassifierOutputContract } from './model-config.js';
import type { Tensor } from '../tensor/tensor.js';
import { numberAt } from '../tensor/tensor.js';
import { SkiffError } from '../errors.js';

export interface Prediction {
  readonly label: string;
  readonly probability: number;
  readonly index: number;
  readonly fullLabel: string;
}

/**
 * Turns one row of a classifier output into the top-k classes by probability. Logits get a softmax;
 * probabilities are renormalised once the background class is dropped, so the answer always sums to 1
 * over the real classes.
 */
export function topK(
  output: Tensor,
  row: number,
  contract: ClassifierOutputContract,
  labels: Labels | undefined,
  k: number,
): Prediction[] {
  const rowLength = contract.classCount;
  const offset = row * rowLength + (contract.backgroundClass ? 1 : 0);
  const classes = rowLength - (contract.backgroundClass ? 1 : 0);
  const values = new Float64Array(classes);
  for (let i = 0; i < classes; i++) values[i] = numberAt(output, offset + i);
  const probabilities = contract.kind === 'logits' ? softmax(values) : normalise(values);
  const order = topIndices(probabilities, Math.min(k, classes));
  return order.map((index) => ({
    index,
    probability: probabilities[index] ?? 0,
    label: labels?.short[index] ?? String(index),
    fullLabel: labels?.full[index] ?? String(index),
  }));
}

export function softmax(values: Float64Array): Float64Array {
  let max = -Infinity;
  // -Infinity is a legitimate logit (a masked class, probability 0); NaN and +Infinity are not.
  for (const v of values) {
    if (Number.isNaN(v) || v === Infinity) max = NaN;
    else if (v > max) max = v;
  }
  if (!Number.isFinite(max)) {
    throw new SkiffError('SKIFF_INFERENCE_FAILED', 'the model produced non-finite scores');
  }
  const out = new Float64Array(values.length);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const e = Math.exp((values[i] ?? 0) - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) / sum;
  return out;
}

function normalise(values: Float64Array): Float64Array {
  let sum = 0;
  for (const v of values) {
    if (!(v >= 0)) sum = NaN;
    sum += v;
  }
  if (!(sum > 0) || !Number.isFinite(sum)) {
    throw new SkiffError(
      'SKIFF_INFERENCE_FAILED',
      'the model produced probabilities that do not sum to a positive number',
    );
  }
  return values.map((v) => v / sum);
}

/** Indices of the k largest values, largest first; ties keep the lower index first. */
function topIndices(values: Float64Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? -Infinity;
    if (best.length === k && v <= (values[best[k - 1] ?? 0] ?? -Infinity)) continue;
    let at = best.length;
    while (at > 0 && (values[best[at - 1] ?? 0] ?? -Infinity) < v) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}
