/** One input as `GET /v2/models/{m}` describes it; -1 marks a dimension the caller chooses. */
export interface OipTensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

/** Reads the inputs of an OIP model metadata document; throws when it has none or one is malformed. */
export function oipInputs(metadata: unknown): OipTensorMetadata[] {
  const inputs = (metadata as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw new Error('the model metadata lists no inputs');
  return inputs.map((input: unknown) => {
    const { name, datatype, shape } = (input ?? {}) as Record<string, unknown>;
    if (
      typeof name !== 'string' ||
      typeof datatype !== 'string' ||
      !Array.isArray(shape) ||
      !shape.every((d) => typeof d === 'number')
    )
      throw new Error(`the model metadata has a malformed input: ${JSON.stringify(input)}`);
    return { name, datatype, shape };
  });
}

/**
 * An infer request with one random (or zero) tensor per input, dynamic dimensions set to 1 (a batch of one).
 * Binary form (Triton's binary tensor extension): a JSON header, then raw little-endian data, and every output
 * asked for in binary too (`binary_data_output`), as perf_analyzer does by default (its --input-tensor-format
 * and --output-tensor-format are both binary); else plain JSON numbers both ways, which cost far more per byte.
 */
export function oipInferRequest(
  inputs: readonly OipTensorMetadata[],
  fill: 'random' | 'zero',
  binary: boolean,
): { body: Buffer; headers: Record<string, string | number> } {
  const tensors = generatedInputs(inputs, fill);
  if (binary) {
    const header = Buffer.from(
      JSON.stringify({
        inputs: tensors.map((t) => ({
          name: t.input.name,
          shape: t.shape,
          datatype: t.input.datatype,
          parameters: { binary_data_size: t.data.length },
        })),
        parameters: { binary_data_output: true },
      }),
    );
    return {
      body: Buffer.concat([header, ...tensors.map((t) => t.data)]),
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': header.length,
      },
    };
  }
  const body = Buffer.from(
    JSON.stringify({
      inputs: tensors.map((t) => ({
        name: t.input.name,
        shape: t.shape,
        datatype: t.input.datatype,
        data: jsonValues(t.input.datatype, t.data),
      })),
    }),
  );
  return { body, headers: { 'content-type': 'application/json' } };
}

/** One input's generated tensor: its metadata, its shape with every dynamic dimension 1, its bytes. */
export interface GeneratedInput {
  readonly input: OipTensorMetadata;
  readonly shape: readonly number[];
  readonly data: Buffer;
}

/** A random (or zero) tensor per input, dynamic dimensions set to 1; throws for a type it cannot fill. */
export function generatedInputs(
  inputs: readonly OipTensorMetadata[],
  fill: 'random' | 'zero',
): GeneratedInput[] {
  return inputs.map((input) => {
    if (BYTES_PER_ELEMENT[input.datatype] === undefined)
      throw new Error(
        `input "${input.name}" is ${input.datatype}: only numeric and BOOL inputs can be generated`,
      );
    const shape = input.shape.map((d) => (d < 0 ? 1 : d));
    const count = shape.reduce((n, d) => n * d, 1);
    return { input, shape, data: tensorBytes(input.datatype, count, fill) };
  });
}

/** Little-endian element bytes: small non-negative integers, floats in [0, 1), so every type stays in range. */
function tensorBytes(datatype: string, count: number, fill: 'random' | 'zero'): Buffer {
  const bytes = Buffer.alloc(count * (BYTES_PER_ELEMENT[datatype] ?? 1));
  if (fill === 'zero') return bytes;
  for (let i = 0; i < count; i++) {
    const r = Math.random();
    switch (datatype) {
      case 'FP32':
        bytes.writeFloatLE(r, i * 4);
        break;
      case 'FP64':
        bytes.writeDoubleLE(r, i * 8);
        break;
      case 'FP16':
        bytes.writeUInt16LE(0x3800 | Math.floor(r * 0x400), i * 2); // [0.5, 1)
        break;
      case 'BOOL':
        bytes[i] = r < 0.5 ? 0 : 1;
        break;
      default: {
        const size = BYTES_PER_ELEMENT[datatype] ?? 1;
        bytes[i * size] = Math.floor(r * 128); // 0..127 fits every integer type
      }
    }
  }
  return bytes;
}

function jsonValues(datatype: string, bytes: Buffer): (number | boolean)[] {
  const size = BYTES_PER_ELEMENT[datatype] ?? 1;
  const values: (number | boolean)[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    if (datatype === 'FP32') values.push(bytes.readFloatLE(offset));
    else if (datatype === 'FP64') values.push(bytes.readDoubleLE(offset));
    else if (datatype === 'FP16') values.push(0.5 + ((bytes.readUInt16LE(offset) & 0x3ff) / 0x400) * 0.5);
    else if (datatype === 'BOOL') values.push(bytes[offset] === 1);
    else values.push(bytes[offset] ?? 0);
  }
  return values;
}
