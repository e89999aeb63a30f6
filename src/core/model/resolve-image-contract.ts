import type { TensorInfo } from '../tensor/tensor.js';
import type {
  ClassifierOutputContract,
  ImageDType,
  ImageInputContract,
  Layout,
  ModelConfigFile,
} from './model-config.js';
import type { Labels } from './labels.js';
import type { DataType } from '../tensor/data-type.js';
import { SkiffError } from '../errors.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface ImageClassifierContract {
  readonly input: ImageInputContract;
  readonly output: ClassifierOutputContract;
  /** Labels aligned with the output after the background class is dropped, or undefined when none were given. */
  readonly labels: Labels | undefined;
}

export type ContractResolution =
  | { readonly ok: true; readonly contract: ImageClassifierContract }
  | { readonly ok: false; readonly reason: string };

const DTYPE_OF: Partial<Record<DataType, ImageDType>> = { FP32: 'float32', UINT8: 'uint8', FP16: 'float16' };

/**
 * Works out how to feed an image to a model and read its classes, from the model file's own inputs and
 * outputs plus whatever model.json says. A model that is plainly not an image classifier (no 4-D input)
 * resolves to `ok: false` with the reason, so it can still be served by tensor APIs; a model.json that
 * contradicts the model file throws SKIFF_MODEL_CONTRACT, and labels that do not fit the output throw
 * SKIFF_LABELS_INVALID, both at start-up.
 */
export function resolveImageContract(
  inputs: readonly TensorInfo[],
  outputs: readonly TensorInfo[],
  config: ModelConfigFile,
  labels: Labels | undefined,
): ContractResolution {
  const wanted = config.input ?? {};
  const imageInputs =
    wanted.name === undefined
      ? inputs.filter((i) => i.shape.length === 4)
      : inputs.filter((i) => i.name === wanted.name);
  if (wanted.name !== undefined && imageInputs.length === 0) {
    throw contractError(
      `model.json names input "${wanted.name}" but the model's inputs are ${names(inputs)}`,
    );
  }
  const input = imageInputs[0];
  if (input === undefined || imageInputs.length > 1 || inputs.length > 1) {
    return {
      ok: false,
      reason:
        input === undefined
          ? `the model has no 4-D image input (inputs: ${describe(inputs)})`
          : `the model has several inputs (${names(inputs)}); image classification needs exactly one`,
    };
  }
  if (input.shape.length !== 4)
    throw contractError(`input "${input.name}" has shape [${input.shape.join(',')}], not 4-D`);

  const modelDType = DTYPE_OF[input.type];
  if (modelDType === undefined) {
    throw contractError(`input "${input.name}" is ${input.type}; image inputs must be FP32, FP16 or UINT8`);
  }
  if (wanted.dtype !== undefined && wanted.dtype !== modelDType) {
    throw contractError(
      `model.json says input dtype ${wanted.dtype} but the model's input "${input.name}" is ${modelDType}`,
    );
  }
  const layout = wanted.layout ?? guessLayout(input);
  const [heightDim, widthDim, channelDim] =
    layout === 'NCHW'
      ? [input.shape[2], input.shape[3], input.shape[1]]
      : [input.shape[1], input.shape[2], input.shape[3]];
  if (channelDim !== undefined && channelDim > 0 && channelDim !== 3) {
    throw contractError(
      `input "${input.name}" has ${channelDim} channels in layout ${layout}; Skiff feeds 3 (RGB/BGR)`,
    );
  }
  const size =
    wanted.size === undefined
      ? undefined
      : typeof wanted.size === 'number'
        ? [wanted.size, wanted.size]
        : wanted.size;
  const height = size?.[0] ?? fixed(heightDim);
  const width = size?.[1] ?? fixed(widthDim);
  if (height === undefined || width === undefined) {
    throw contractError(
      `input "${input.name}" has a dynamic height or width; set "input.size" in model.json`,
    );
  }
  for (const [dim, value] of [
    [heightDim, height],
    [widthDim, width],
  ] as const) {
    if (fixed(dim) !== undefined && dim !== value) {
      throw contractError(
        `model.json says size ${height}x${width} but the model's input is [${input.shape.join(',')}]`,
      );
    }
  }
  const isFloat = modelDType !== 'uint8';
  const inputContract: ImageInputContract = {
    name: input.name,
    layout,
    dtype: modelDType,
    colorOrder: wanted.colorOrder ?? 'RGB',
    height,
    width,
    resizeMode: wanted.resizeMode ?? 'shorter-side-then-center-crop',
    resizeShorterSide: wanted.resizeShorterSide ?? Math.round(Math.min(height, width) / 0.875),
    scale: wanted.scale ?? (isFloat ? 1 / 255 : 1),
    mean: wanted.mean ?? (isFloat ? IMAGENET_MEAN : [0, 0, 0]),
    std: wanted.std ?? (isFloat ? IMAGENET_STD : [1, 1, 1]),
  };
  if (inputContract.std.some((s) => s === 0))
    throw contractError('model.json "input.std" must not contain 0');

  const output = pickOutput(outputs, config);
  const classCount = output.shape.slice(1).reduce((a, b) => a * b, 1);
  if (output.shape.slice(1).some((d) => d < 0) || output.shape.length < 2) {
    throw contractError(
      `output "${output.name}" has shape [${output.shape.join(',')}]; a classifier needs a fixed class count`,
    );
  }
  const backgroundClass = config.output?.backgroundClass ?? guessBackground(classCount, labels);
  const classes = classCount - (backgroundClass ? 1 : 0);
  const alignedLabels = alignLabels(labels, classes, backgroundClass);
  return {
    ok: true,
    contract: {
      input: inputContract,
      output: {
        name: output.name,
        kind: config.output?.kind ?? guessKind(output.name),
        backgroundClass,
        classCount,
      },
      labels: alignedLabels,
    },
  };
}

function guessLayout(input: TensorInfo): Layout {
  if (input.shape[1] === 3) return 'NCHW';
  if (input.shape[3] === 3) return 'NHWC';
  throw contractError(
    `cannot tell the layout of input "${input.name}" [${input.shape.join(',')}]; set "input.layout" in model.json`,
  );
}

function pickOutput(outputs: readonly TensorInfo[], config: ModelConfigFile): TensorInfo {
  const wanted = config.output?.name;
  if (wanted !== undefined) {
    const found = outputs.find((o) => o.name === wanted);
    if (found === undefined)
      throw contractError(
        `model.json names output "${wanted}" but the model's outputs are ${names(outputs)}`,
      );
    return found;
  }
  const first = outputs.find((o) => /logit/i.test(o.name)) ?? outputs[0];
  if (first === undefined) throw contractError('the model has no outputs');
  return first;
}

function guessKind(name: string): 'logits' | 'probabilities' {
  return /prob|softmax/i.test(name) ? 'probabilities' : 'logits';
}

/**
 * Only two cases are unambiguous: the labels name "background" first, or TF-slim's 1001 outputs with the
 * 1000 ImageNet labels. Any other N-1 labels on N outputs may be a truncated file, so it stays an error
 * unless model.json says `backgroundClass: true`.
 */
function guessBackground(classCount: number, labels: Labels | undefined): boolean {
  if (labels === undefined) return false;
  if (labels.full.length === classCount && /^background$/i.test(labels.full[0] ?? '')) return true;
  return classCount === 1001 && labels.full.length === 1000;
}

function alignLabels(labels: Labels | undefined, classes: number, background: boolean): Labels | undefined {
  if (labels === undefined) return undefined;
  const dropFirst = background && labels.full.length === classes + 1;
  const full = dropFirst ? labels.full.slice(1) : labels.full;
  const short = dropFirst ? labels.short.slice(1) : labels.short;
  if (full.length !== classes) {
    throw new SkiffError(
      'SKIFF_LABELS_INVALID',
      `the labels list ${labels.full.length} classes but the model outputs ${classes}${background ? ' (background dropped)' : ''}`,
    );
  }
  return { full, short };
}

function fixed(dim: number | undefined): number | undefined {
  return dim !== undefined && dim > 0 ? dim : undefined;
}

function names(infos: readonly TensorInfo[]): string {
  return infos.map((i) => `"${i.name}"`).join(', ');
}

function describe(infos: readonly TensorInfo[]): string {
  return infos.map((i) => `"${i.name}" ${i.type} [${i.shape.join(',')}]`).join(', ');
}

function contractError(message: string): SkiffError {
  return new SkiffError('SKIFF_MODEL_CONTRACT', message);
}
