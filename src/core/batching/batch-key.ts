import type { Tensor } from '../tensor/tensor.js';

/** Requests can share a batch only with the same inputs (name, type, non-batch dims) and the same outputs. */
export function batchKey(
  inputs: Readonly<Record<string, Tensor>>,
  outputNames: readonly string[] | undefined,
): string {
  const parts = Object.entries(inputs)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, t]) => `${name}:${t.type}:${t.shape.slice(1).join('x')}`);
  return `${parts.join('|')}>${outputNames === undefined ? '*' : [...outputNames].sort().join(',')}`;
}
