import type { DataType } from '../../core/tensor/data-type.js';
import { DATA_TYPES } from '../../core/tensor/data-type.js';
import type { Tensor, TensorInfo } from '../../core/tensor/tensor.js';
import { checkInputType } from '../../core/request/check-request.js';
import type { InferRequest, InferResponse, RequestedOutput } from '../../core/inference-types.js';
import { SkiffError } from '../../core/errors.js';
import type { RequestLimits } from '../../core/request/request-limits.js';
import { ElementBudget } from '../../core/request/element-budget.js';
import { parseJsonBody } from './json-body.js';
import { stringifyExact } from '../../core/tensor/exact-json.js';
import { decodeRawBinaryBody } from './raw-binary-body.js';
import { checkResponseSize, estimateJsonBytes } from '../response-size.js';
import { tensorFromJson, tensorToJson } from '../../core/tensor/json-tensor.js';
import { rawByteLength, tensorFromRaw, tensorToRaw } from '../../core/tensor/raw-tensor.js';

/** Most bytes of JSON header the binary extension may declare; the rest of the body is tensor data. */
type Json = Record<string, unknown>;

export interface DecodedInfer {
  readonly request: InferRequest;
  /** Outputs to return in the binary section. */
  readonly binaryOutputs: ReadonlySet<string>;
}

/**
 * Parses an OIP v2 REST infer body: JSON, or with the binary tensor extension a JSON header of
 * `headerLength` bytes followed by the inputs' raw bytes in input order (a header length of 0: Triton's
 * raw binary request, raw-binary-body.ts). The JSON's nesting is checked
 * before it is parsed, and each input's shape against the element limits before its data is converted.
 * `binary`, when given, holds the bytes after the header in a buffer of its own and `body` only the header.
 */
export function decodeInferBody(
  model: string,
  version: string | undefined,
  body: Buffer,
  headerLength: number | undefined,
  limits: RequestLimits,
  declared?: readonly TensorInfo[],
  binary?: Uint8Array,
): DecodedInfer {
  const bodyLength = body.length + (binary?.byteLength ?? 0);
  if (headerLength !== undefined && (headerLength < 0 || headerLength > bodyLength)) {
    throw new SkiffError(
      'SKIFF_BAD_REQUEST',
      `Inference-Header-Content-Length is ${headerLength} but the body has ${bodyLength} bytes`,
    );
  }
  if (binary !== undefined && headerLength !== body.length)
    throw new SkiffError('SKIFF_INTERNAL', 'a split body must be split at its header length');
  if (headerLength === 0) return decodeRawBinaryBody(model, version, body, declared, limits);
  const jsonBytes = headerLength === undefined ? body : body.subarray(0, headerLength);
  // The tensor bytes: the rest of the body, or the buffer they were read into.
  const data = binary ?? body.subarray(headerLength ?? body.length);
  let parsed: unknown;
  try {
    parsed = parseJsonBody(jsonBytes, limits.maxJsonDepth);
  } catch (error) {
    if (headerLength === undefined || !(error instanceof SkiffError) || error.code !== 'SKIFF_BAD_REQUEST')
      throw error;
    throw new SkiffError(
      'SKIFF_BAD_REQUEST',
      'the JSON header of the request is not valid JSON (check Inference-Header-Content-Length)',
    );
  }
  const budget = new ElementBudget(limits);
  const root = object(parsed, 'the request');
  const inputs = root.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new SkiffError('SKIFF_BAD_TENSOR', '"inputs" must be a non-empty array');
  let binaryAt = 0;
  // No prototype: an input may be called "constructor" or "__proto__" like any other name.
  const tensors = Object.create(null) as Record<string, Tensor>;
  for (const [index, item] of inputs.entries()) {
    const input = object(item, `inputs[${index}]`);
    const name = input.name;
    if (typeof name !== 'string' || name === '')
      throw new SkiffError('SKIFF_BAD_TENSOR', `inputs[${index}].name must be a non-empty string`);
    if (Object.hasOwn(tensors, name))
      throw new SkiffError('SKIFF_BAD_TENSOR', `input "${name}" is given twice`);
    const datatype = dataType(input.datatype, `input "${name}"`);
    // A wrong name or type is refused from the header, before the data is converted.
    if (declared !== undefined) checkInputType(model, declared, name, datatype);
    const shape = shapeOf(input.shape, name);
    budget.add(name, datatype, shape);
    const parameters =
      input.parameters === undefined ? {} : object(input.parameters, `input "${name}".parameters`);
    const binarySize = parameters.binary_data_size;
    if (binarySize !== undefined) {
      if (headerLength === undefined)
        throw new SkiffError(
          'SKIFF_BAD_REQUEST',
          `input "${name}" has binary_data_size but the request has no Inference-Header-Content-Length header`,
        );
      if (
        typeof binarySize !== 'number' ||
        !Number.isSafeInteger(binarySize) ||
        binarySize < 0 ||
        binaryAt + binarySize > data.length
      ) {
        throw new SkiffError(
          'SKIFF_BAD_TENSOR',
          `input "${name}": binary_data_size ${String(stringifyExact(binarySize))} runs past the end of the body`,
        );
      }
      if (input.data !== undefined)
        throw new SkiffError('SKIFF_BAD_TENSOR', `input "${name}" has both "data" and binary_data_size`);
      // The only input of a split body owns its buffer: no copy (tensorFromRaw checks it is all of it).
      tensors[name] = tensorFromRaw(name, datatype, shape, data.subarray(binaryAt, binaryAt + binarySize), {
        owned: binary !== undefined,
      });
      binaryAt += binarySize;
    } else {
      if (input.data === undefined) throw new SkiffError('SKIFF_BAD_TENSOR', `input "${name}" has no "data"`);
      tensors[name] = tensorFromJson(name, datatype, shape, input.data);
    }
  }
  if (binaryAt !== data.length) {
    throw new SkiffError(
      'SKIFF_BAD_REQUEST',
      `${data.length - binaryAt} bytes of binary data are not claimed by any input's binary_data_size`,
    );
  }
  const parameters = root.parameters === undefined ? {} : object(root.parameters, 'parameters');
  const allBinary = parameters.binary_data_output === true;
  const binaryOutputs = new Set<string>();
  let outputs: RequestedOutput[] | undefined;
  if (root.outputs !== undefined) {
    if (!Array.isArray(root.outputs)) throw new SkiffError('SKIFF_BAD_TENSOR', '"outputs" must be an array');
    outputs = root.outputs.map((item, index) => {
      const output = object(item, `outputs[${index}]`);
      if (typeof output.name !== 'string')
        throw new SkiffError('SKIFF_BAD_TENSOR', `outputs[${index}].name must be a string`);
      const p =
        output.parameters === undefined
          ? {}
          : object(output.parameters, `output "${output.name}".parameters`);
      if (p.binary_data === true || (p.binary_data === undefined && allBinary))
        binaryOutputs.add(output.name);
      const classification = p.classification;
      if (classification !== undefined && typeof classification !== 'number') {
        throw new SkiffError(
          'SKIFF_BAD_PARAMETER',
          `output "${output.name}": classification must be a number`,
        );
      }
      return { name: output.name, classification };
    });
  }
  const id = root.id;
  if (id !== undefined && typeof id !== 'string')
    throw new SkiffError('SKIFF_BAD_REQUEST', '"id" must be a string');
  return {
    request: { model, version, id, inputs: tensors, outputs },
    binaryOutputs: allBinary && outputs === undefined ? new Set(['*']) : binaryOutputs,
  };
}

/**
 * The response body: JSON, or JSON header + binary outputs (and the header length to send). Its size is
 * estimated from the outputs first, and a body over `maxResponseBytes` is refused before it is built.
 */
export function encodeInferResponse(
  response: InferResponse,
  binaryOutputs: ReadonlySet<string>,
  maxResponseBytes: number,
): { body: Buffer; headerLength?: number } {
  const binary = (name: string): boolean => binaryOutputs.has(name) || binaryOutputs.has('*');
  checkResponseSize(
    response.outputs.reduce(
      (sum, { name, tensor }) => sum + (binary(name) ? rawByteLength(tensor) : estimateJsonBytes(tensor)),
      0,
    ),
    maxResponseBytes,
  );
  const chunks: Uint8Array[] = [];
  const outputs = response.outputs.map(({ name, tensor }) => {
    const base = { name, datatype: tensor.type, shape: [...tensor.shape] };
    if (binary(name)) {
      const raw = tensorToRaw(tensor);
      chunks.push(raw);
      return { ...base, parameters: { binary_data_size: raw.byteLength } };
    }
    return { ...base, data: tensorToJson(tensor) };
  });
  const header = Buffer.from(
    JSON.stringify({
      model_name: response.model,
      model_version: response.version,
      ...(response.id === undefined ? {} : { id: response.id }),
      outputs,
    }),
  );
  if (chunks.length === 0) return { body: header };
  return { body: Buffer.concat([header, ...chunks]), headerLength: header.length };
}

function object(value: unknown, what: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new SkiffError('SKIFF_BAD_REQUEST', `${what} must be a JSON object`);
  return value as Json;
}

export function dataType(value: unknown, what: string): DataType {
  if (typeof value !== 'string' || !(DATA_TYPES as readonly string[]).includes(value)) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `${what}: datatype ${String(stringifyExact(value))} is not one of ${DATA_TYPES.join(', ')}`,
    );
  }
  return value as DataType;
}

function shapeOf(value: unknown, name: string): number[] {
  if (
    !Array.isArray(value) ||
    !value.every((d): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
  ) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `input "${name}": shape must be an array of non-negative integers`,
    );
  }
  return value;
}
