/**
 * Post-training static quantization of a float ResNet-style graph into ONNX's QDQ form, the form ONNX
 * Runtime's own quantization tool writes: activations uint8 (per tensor, asymmetric, calibrated on real
 * photos), conv weights int8 (per output channel, symmetric), conv biases int32 at input x weight scale.
 * ORT's CPU provider fuses DequantizeLinear -> Conv -> QuantizeLinear into QLinearConv (U8S8, which uses
 * AVX-512 VNNI where the CPU has it), Add into QLinearAdd, and drops a Relu before a zero-point-0 Quantize.
 * The classifier head (Flatten -> Gemm) stays float: it is 0.05% of ResNet50's multiply-adds.
 */
import type { GraphSpec, InitializerSpec, NodeSpec } from '../test/fixtures/onnx-writer.js';

/** Observed range of one float tensor over the calibration inputs. */
export interface TensorRange {
  readonly min: number;
  readonly max: number;
}

/**
 * The float tensors that get a Quantize/Dequantize pair: the graph input and every node output except the
 * final output, the float head, and a Conv/Add output read only by a Relu (the Relu's output is quantized).
 */
export function quantizationPoints(spec: GraphSpec): string[] {
  const consumers = new Map<string, NodeSpec[]>();
  for (const node of spec.nodes)
    for (const input of node.inputs) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  const graphOutputs = new Set(spec.outputs.map((o) => o.name));
  const points = spec.inputs.map((i) => i.name);
  for (const node of spec.nodes) {
    if (node.opType === 'Flatten' || node.opType === 'Gemm') continue;
    for (const output of node.outputs) {
      const readers = consumers.get(output) ?? [];
      if (graphOutputs.has(output)) continue;
      if (readers.length === 1 && readers[0]?.opType === 'Relu') continue;
      points.push(output);
    }
  }
  return points;
}

/** The float graph with every quantization point also exposed as an output, for calibration runs. */
export function withCalibrationOutputs(spec: GraphSpec, points: readonly string[]): GraphSpec {
  const known = new Set(spec.outputs.map((o) => o.name));
  const rank = (name: string): number => (name === spec.inputs[0]?.name ? spec.inputs[0].dims.length : 4);
  return {
    ...spec,
    outputs: [
      ...spec.outputs,
      ...points
        .filter((p) => !known.has(p))
        .map((name) => ({
          name,
          elemType: 'float32' as const,
          dims: Array.from({ length: rank(name) }, (_, i) => `${name}_d${i}`),
        })),
    ],
  };
}

function uint8Params(range: TensorRange): { scale: number; zeroPoint: number } {
  const low = Math.min(0, range.min);
  const high = Math.max(0, range.max, low + 1e-6);
  const scale = (high - low) / 255;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-low / scale))) };
}

/** The QDQ graph: same inputs and outputs as `spec`, conv weights stored as int8. */
export function quantizeQdq(spec: GraphSpec, ranges: ReadonlyMap<string, TensorRange>): GraphSpec {
  const points = quantizationPoints(spec);
  const floats = new Map((spec.initializers ?? []).map((i) => [i.name, i]));
  const initializers: InitializerSpec[] = [];
  const nodes: NodeSpec[] = [];
  const scaleOf = new Map<string, number>();
  const renamed = new Map<string, string>();

  const quantize = (tensor: string): void => {
    const range = ranges.get(tensor);
    if (range === undefined) throw new Error(`no calibration range for ${tensor}`);
    const { scale, zeroPoint } = uint8Params(range);
    scaleOf.set(tensor, scale);
    initializers.push(
      { name: `${tensor}.scale`, elemType: 'float32', dims: [], data: Float32Array.of(scale) },
      { name: `${tensor}.zero_point`, elemType: 'uint8', dims: [], data: Uint8Array.of(zeroPoint) },
    );
    const args = [`${tensor}.scale`, `${tensor}.zero_point`];
    nodes.push(
      {
        opType: 'QuantizeLinear',
        name: `${tensor}.quantize`,
        inputs: [tensor, ...args],
        outputs: [`${tensor}.q`],
      },
      {
        opType: 'DequantizeLinear',
        name: `${tensor}.dequantize`,
        inputs: [`${tensor}.q`, ...args],
        outputs: [`${tensor}.dq`],
      },
    );
    renamed.set(tensor, `${tensor}.dq`);
  };

  for (const input of spec.inputs) if (points.includes(input.name)) quantize(input.name);
  for (const node of spec.nodes) {
    const inputs = node.inputs.map((name) => renamed.get(name) ?? name);
    if (node.opType === 'Conv') {
      const [x, w, b] = node.inputs;
      const weight = floats.get(w ?? '');
      const bias = floats.get(b ?? '');
      const inputScale = scaleOf.get(x ?? '');
      if (weight === undefined || bias === undefined || inputScale === undefined)
        throw new Error(`conv ${node.name ?? '?'}: needs float weight, bias and a quantized input`);
      inputs[1] = quantizedWeight(weight, initializers, nodes);
      inputs[2] = quantizedBias(bias, inputScale, weight, initializers, nodes);
    }
    nodes.push({ ...node, inputs });
    for (const output of node.outputs) if (points.includes(output)) quantize(output);
  }
  const used = new Set(nodes.flatMap((n) => n.inputs));
  return {
    ...spec,
    name: `${spec.name}-int8-qdq`,
    initializers: [...(spec.initializers ?? []).filter((i) => used.has(i.name)), ...initializers],
    nodes,
  };
}

/** Per output channel: scale = max |w| / 127, zero point 0 (symmetric, as VNNI kernels expect). */
function channelScales(weight: InitializerSpec): Float32Array {
  const channels = weight.dims[0] ?? 1;
  const perChannel = weight.data.length / channels;
  const data = weight.data as Float32Array;
  return Float32Array.from({ length: channels }, (_, c) => {
    let max = 0;
    for (let i = c * perChannel; i < (c + 1) * perChannel; i++) max = Math.max(max, Math.abs(data[i] ?? 0));
    return Math.max(max, 1e-8) / 127;
  });
}

function quantizedWeight(
  weight: InitializerSpec,
  initializers: InitializerSpec[],
  nodes: NodeSpec[],
): string {
  const channels = weight.dims[0] ?? 1;
  const perChannel = weight.data.length / channels;
  const data = weight.data as Float32Array;
  const scales = channelScales(weight);
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const scale = scales[Math.floor(i / perChannel)] ?? 1;
    q[i] = Math.max(-127, Math.min(127, Math.round((data[i] ?? 0) / scale)));
  }
  const name = weight.name;
  initializers.push(
    { name: `${name}.int8`, elemType: 'int8', dims: weight.dims, data: q },
    { name: `${name}.scale`, elemType: 'float32', dims: [channels], data: scales },
    { name: `${name}.zero_point`, elemType: 'int8', dims: [channels], data: new Int8Array(channels) },
  );
  nodes.push({
    opType: 'DequantizeLinear',
    name: `${name}.dequantize`,
    inputs: [`${name}.int8`, `${name}.scale`, `${name}.zero_point`],
    outputs: [`${name}.dq`],
    attributes: { axis: 0 },
  });
  return `${name}.dq`;
}

function quantizedBias(
  bias: InitializerSpec,
  inputScale: number,
  weight: InitializerSpec,
  initializers: InitializerSpec[],
  nodes: NodeSpec[],
): string {
  const weightScales = channelScales(weight);
  const scales = Float32Array.from(weightScales, (s) => s * inputScale);
  const data = bias.data as Float32Array;
  const q = Int32Array.from(data, (v, c) => Math.round(v / (scales[c] ?? 1)));
  const name = bias.name;
  initializers.push(
    { name: `${name}.int32`, elemType: 'int32', dims: bias.dims, data: q },
    { name: `${name}.scale`, elemType: 'float32', dims: bias.dims, data: scales },
    { name: `${name}.zero_point`, elemType: 'int32', dims: bias.dims, data: new Int32Array(data.length) },
  );
  nodes.push({
    opType: 'DequantizeLinear',
    name: `${name}.dequantize`,
    inputs: [`${name}.int32`, `${name}.scale`, `${name}.zero_point`],
    outputs: [`${name}.dq`],
    attributes: { axis: 0 },
  });
  return `${name}.dq`;
}
