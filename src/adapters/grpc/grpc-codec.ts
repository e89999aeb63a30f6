import type { DataType } from '../../core/tensor/data-type.js';
import { DATA_TYPES } from '../../core/tensor/data-type.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import type { InferRequest, InferResponse, RequestedOutput } from '../../core/inference-types.js';
import type { TensorContentsMessage } from './tensor-contents.js';
import { SkiffError } from '../../core/errors.js';
import { tensorFromRaw, tensorToRaw } from '../../core/tensor/raw-tensor.js';
import type { RequestLimits } from '../../core/request/request-limits.js';
import { elementCount } from '../../core/tensor/tensor.js';
import { ElementBudget } from '../../core/request/element-budget.js';
import { checkResponseSize } from '../response-size.js';
import { rawByteLength } from '../../core/tensor/raw-tensor.js';
import { tensorFromContents, tensorToContents } from './tensor-contents.js';

/** `InferParameter` as decoded with `oneofs: true, longs: String`. */
export interface InferParameterMessage {
  bool_param?: boolean;
  int64_param?: string | number;
  string_param?: string;
  double_param?: number;
  uint64_param?: string | number;
  parameter_choice?: string;
}

type Parameters = Record<string, InferParameterMessage>;

export interface InferInputMessage {
  name?: string;
  datatype?: string;
  shape?: (string | number)[];
  parameters?: Parameters;
  contents?: TensorContentsMessage | null;
}

export interface ModelInferRequestMessage {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  inputs?: InferInputMessage[];
  outputs?: { name?: string; parameters?: Parameters }[];
  raw_input_contents?: Uint8Array[];
}

export interface InferOutputMessage {
  name: string;
  datatype: string;
  shape: number[];
  parameters: Parameters;
  contents?: TensorContentsMessage;
}

export interface ModelInferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Parameters;
  outputs: InferOutputMessage[];
  raw_output_contents: Buffer[];
}

export interface DecodedModelInfer {
  readonly request: InferRequest;
  /** Outputs go back as typed contents rather than raw_output_contents. */
  readonly typedOutputs: boolean;
}

/**
 * The request-level parameter that turns raw outputs off. It has the same name and meaning as in the REST
 * binary extension; raw is the default here because Triton answers that way and it is cheaper.
 */
export const BINARY_DATA_OUTPUT = 'binary_data_output';

/**
 * Converts a ModelInferRequest into the neutral request. Inputs come either all as typed `contents` or
 * all as `raw_input_contents` (one entry per input, in order), as the spec requires. Each input's shape is
 * added to the request's element budget before its contents are converted.
 */
export function decodeModelInfer(
  message: ModelInferRequestMessage,
  limits: RequestLimits,
): DecodedModelInfer {
  const budget = new ElementBudget(limits);
  const model = message.model_name ?? '';
  if (model === '') throw new SkiffError('SKIFF_BAD_REQUEST', 'model_name is required');
  const inputs = message.inputs ?? [];
  if (inputs.length === 0) throw new SkiffError('SKIFF_BAD_TENSOR', 'the request has no inputs');
  const raw = message.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== inputs.length) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `raw_input_contents has ${raw.length} entries for ${inputs.length} inputs; send one per input, in input order`,
    );
  }
  // No prototype: an input may be called "constructor" or "__proto__" like any other name.
  const tensors = Object.create(null) as Record<string, Tensor>;
  for (const [index, input] of inputs.entries()) {
    const name = input.name ?? '';
    if (name === '') throw new SkiffError('SKIFF_BAD_TENSOR', `inputs[${index}].name is empty`);
    if (Object.hasOwn(tensors, name))
      throw new SkiffError('SKIFF_BAD_TENSOR', `input "${name}" is given twice`);
    const type = dataType(input.datatype, name);
    const shape = shapeOf(input.shape ?? [], name);
    budget.add(name, type, shape);
    const bytes = raw[index];
    if (bytes !== undefined) {
      if (hasContents(input.contents)) {
        throw new SkiffError(
          'SKIFF_BAD_TENSOR',
          `input "${name}" has typed contents but the request uses raw_input_contents; use one or the other for all inputs`,
        );
      }
      // A plain view: Buffer#slice would hand BYTES elements out as views into the whole message.
      tensors[name] = tensorFromRaw(
        name,
        type,
        shape,
        new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      );
    } else {
      if (!hasContents(input.contents) && elementCount(shape) > 0) {
        throw new SkiffError(
          'SKIFF_BAD_TENSOR',
          `input "${name}" has no data: fill its contents or send raw_input_contents`,
        );
      }
      tensors[name] = tensorFromContents(name, type, shape, input.contents ?? {});
    }
  }
  const outputs: RequestedOutput[] | undefined =
    message.outputs === undefined || message.outputs.length === 0
      ? undefined
      : message.outputs.map((output, index) => {
          const name = output.name ?? '';
          if (name === '') throw new SkiffError('SKIFF_BAD_TENSOR', `outputs[${index}].name is empty`);
          return { name, classification: classification(name, output.parameters?.classification) };
        });
  const binary = message.parameters?.[BINARY_DATA_OUTPUT];
  if (binary !== undefined && binary.bool_param === undefined) {
    throw new SkiffError('SKIFF_BAD_PARAMETER', `parameter ${BINARY_DATA_OUTPUT} must be a bool_param`);
  }
  const version = message.model_version ?? '';
  const id = message.id ?? '';
  return {
    request: {
      model,
      version: version === '' ? undefined : version,
      id: id === '' ? undefined : id,
      inputs: tensors,
      outputs,
    },
    typedOutputs: binary?.bool_param === false,
  };
}

/**
 * The ModelInferResponse: outputs in raw_output_contents (Triton's way), or typed contents when asked. A
 * response over `maxResponseBytes` is refused before it is built.
 */
export function encodeModelInfer(
  response: InferResponse,
  typedOutputs: boolean,
  maxResponseBytes: number,
): ModelInferResponseMessage {
  checkResponseSize(
    response.outputs.reduce((sum, { tensor }) => sum + rawByteLength(tensor), 0),
    maxResponseBytes,
  );
  const raw: Buffer[] = [];
  const outputs = response.outputs.map(({ name, tensor }): InferOutputMessage => {
    const base = { name, datatype: tensor.type, shape: [...tensor.shape], parameters: {} };
    if (typedOutputs) return { ...base, contents: tensorToContents(name, tensor) };
    const bytes = tensorToRaw(tensor);
    raw.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return base;
  });
  return {
    model_name: response.model,
    model_version: response.version,
    id: response.id ?? '',
    parameters: {},
    outputs,
    raw_output_contents: raw,
  };
}

function hasContents(contents: TensorContentsMessage | null | undefined): boolean {
  if (contents === undefined || contents === null) return false;
  return Object.values(contents).some((values: unknown) => Array.isArray(values) && values.length > 0);
}

function classification(output: string, parameter: InferParameterMessage | undefined): number | undefined {
  if (parameter === undefined) return undefined;
  const value = parameter.int64_param ?? parameter.uint64_param;
  const n = value === undefined ? NaN : Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new SkiffError(
      'SKIFF_BAD_PARAMETER',
      `output "${output}": classification must be an int64_param (how many classes to return)`,
    );
  }
  return n;
}

function dataType(value: string | undefined, name: string): DataType {
  if (value === undefined || !(DATA_TYPES as readonly string[]).includes(value)) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `input "${name}": datatype ${JSON.stringify(value ?? '')} is not one of ${DATA_TYPES.join(', ')}`,
    );
  }
  return value as DataType;
}

function shapeOf(dims: readonly (string | number)[], name: string): number[] {
  return dims.map((dim) => {
    const n = Number(dim);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `input "${name}": shape [${dims.join(',')}] must hold non-negative integers`,
      );
    }
    return n;
  });
}
