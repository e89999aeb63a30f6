import type { RequestedOutput } from '../inference-types.js';
import type { Tensor, TensorInfo } from '../tensor/tensor.js';
import { SkiffError } from '../errors.js';

/**
 * One input as soon as its name and type are read, before its data is converted: decoders call this so that
 * a request for the wrong model costs nothing beyond its header.
 */
export function checkInputType(
  modelName: string,
  declared: readonly TensorInfo[],
  name: string,
  type: Tensor['type'],
): void {
  const info = declared.find((d) => d.name === name);
  if (info === undefined) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `model "${modelName}" has no input "${name}"; inputs: ${declared.map((d) => d.name).join(', ')}`,
    );
  }
  if (info.type !== type)
    throw new SkiffError('SKIFF_BAD_TENSOR', `input "${name}" must be ${info.type}, got ${type}`);
}

/** The inputs must be exactly the model's, each of its type, with its fixed dimensions. */
export function checkInputs(
  modelName: string,
  declared: readonly TensorInfo[],
  given: Readonly<Record<string, Tensor>>,
): void {
  for (const name of Object.keys(given)) {
    if (!declared.some((d) => d.name === name)) {
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `model "${modelName}" has no input "${name}"; inputs: ${declared.map((d) => d.name).join(', ')}`,
      );
    }
  }
  for (const info of declared) {
    const tensor = given[info.name];
    if (tensor === undefined)
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `input "${info.name}" is missing; model "${modelName}" needs ${declared.map((d) => d.name).join(', ')}`,
      );
    if (tensor.type !== info.type) {
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `input "${info.name}" must be ${info.type}, got ${tensor.type}`,
      );
    }
    const fits =
      tensor.shape.length === info.shape.length && info.shape.every((d, i) => d < 0 || d === tensor.shape[i]);
    if (!fits) {
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `input "${info.name}" has shape [${tensor.shape.join(',')}] but the model takes [${info.shape.map((d) => (d < 0 ? '-1' : String(d))).join(',')}]`,
      );
    }
  }
}

/**
 * Each requested output must be one of the model's, named once: a repeated output would only multiply the
 * work and the answer (a request naming one output 20 000 times is an attack, not a question).
 */
export function checkOutputs(
  modelName: string,
  declared: readonly TensorInfo[],
  requested: readonly RequestedOutput[],
): void {
  const seen = new Set<string>();
  for (const output of requested) {
    if (seen.has(output.name))
      throw new SkiffError('SKIFF_BAD_TENSOR', `output "${output.name}" is requested more than once`);
    seen.add(output.name);
    if (!declared.some((o) => o.name === output.name)) {
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `model "${modelName}" has no output "${output.name}"; outputs: ${declared.map((o) => o.name).join(', ')}`,
      );
    }
    const n = output.classification;
    if (n !== undefined && (!Number.isSafeInteger(n) || n < 1)) {
      throw new SkiffError(
        'SKIFF_BAD_PARAMETER',
        `output "${output.name}": classification must be a positive integer`,
      );
    }
  }
}
