/**
 * Writes a ResNet50 v1 (torchvision layout) with random weights, for benchmarks that need a realistic
 * amount of compute (about 4 GFLOP per image) without downloading a real model.
 * Script: `node dist/bench/make-resnet50.js [out.onnx]`, default `<repo>/bench/.work/resnet50.onnx`.
 */
import { open, mkdir, rename } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findRepoRoot, heUniform, seededRandom, uniform } from '../test/fixtures/make-fixtures.js';
import {
  encodeModelParts,
  type GraphSpec,
  type InitializerSpec,
  type NodeSpec,
} from '../test/fixtures/onnx-writer.js';

/** Blocks per stage and the stage's bottleneck width; a block's output has 4x the width. */
const STAGES = [
  { blocks: 3, width: 64 },
  { blocks: 4, width: 128 },
  { blocks: 6, width: 256 },
  { blocks: 3, width: 512 },
] as const;
const EXPANSION = 4;
const CLASSES = 1000;
/**
 * Scales the last conv of each block: with plain He init every residual add doubles the variance, and
 * 16 blocks of that would put activations near 1e5; this keeps them in the tens without being zero.
 */
const RESIDUAL_GAIN = 0.5;

/** Writes the model to `path` (through a temporary file, so a reader never sees half of it). */
export async function makeResnet50(path: string, seed = 50): Promise<void> {
  const parts = encodeModelParts(resnet50Spec(seed));
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomUUID()}.tmp`;
  const file = await open(temporary, 'w');
  try {
    for (const part of parts) await file.write(part);
  } finally {
    await file.close();
  }
  await rename(temporary, path);
}

/** `data` float32 [N,3,224,224] → `logits` float32 [N,1000]; BatchNorm is folded into conv biases. */
export function resnet50Spec(seed = 50): GraphSpec {
  const graph = new GraphBuilder(seededRandom(seed));
  let x = graph.conv('conv1', 'data', { inChannels: 3, outChannels: 64, kernel: 7, stride: 2, relu: true });
  x = graph.node('MaxPool', 'maxpool', [x], {
    kernel_shape: [3, 3],
    strides: [2, 2],
    pads: [1, 1, 1, 1],
  });
  let channels = 64;
  STAGES.forEach(({ blocks, width }, stage) => {
    for (let block = 0; block < blocks; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      x = graph.bottleneck(`layer${stage + 1}.${block}`, x, channels, width, stride);
      channels = width * EXPANSION;
    }
  });
  x = graph.node('GlobalAveragePool', 'avgpool', [x]);
  x = graph.node('Flatten', 'flatten', [x], { axis: 1 });
  const fcBound = 1 / Math.sqrt(channels);
  const fcWeight = graph.initializer(
    'fc.weight',
    [CLASSES, channels],
    uniform(CLASSES * channels, fcBound, graph.random),
  );
  const fcBias = graph.initializer('fc.bias', [CLASSES], uniform(CLASSES, fcBound, graph.random));
  graph.node('Gemm', 'fc', [x, fcWeight, fcBias], { transB: 1 }, 'logits');
  return {
    name: 'resnet50-random',
    inputs: [{ name: 'data', elemType: 'float32', dims: ['N', 3, 224, 224] }],
    outputs: [{ name: 'logits', elemType: 'float32', dims: ['N', CLASSES] }],
    initializers: graph.initializers,
    nodes: graph.nodes,
  };
}

interface ConvOptions {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly relu: boolean;
  readonly gain?: number;
}

class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: InitializerSpec[] = [];

  constructor(readonly random: () => number) {}

  initializer(name: string, dims: readonly number[], data: Float32Array): string {
    this.initializers.push({ name, elemType: 'float32', dims, data });
    return name;
  }

  /** Adds a node with one output named after the node (or `output`) and returns that output. */
  node(
    opType: string,
    name: string,
    inputs: readonly string[],
    attributes: NodeSpec['attributes'] = {},
    output = name,
  ): string {
    this.nodes.push({ opType, name, inputs, outputs: [output], attributes });
    return output;
  }

  conv(name: string, input: string, options: ConvOptions): string {
    const { inChannels, outChannels, kernel, stride } = options;
    const fanIn = inChannels * kernel * kernel;
    const weight = this.initializer(
      `${name}.weight`,
      [outChannels, inChannels, kernel, kernel],
      heUniform(outChannels * fanIn, fanIn, this.random, options.gain),
    );
    // Stands in for the folded BatchNorm shift: small, so the He scaling still sets the variance.
    const bias = this.initializer(`${name}.bias`, [outChannels], uniform(outChannels, 0.05, this.random));
    const pad = (kernel - 1) / 2;
    const out = this.node('Conv', name, [input, weight, bias], {
      kernel_shape: [kernel, kernel],
      strides: [stride, stride],
      pads: [pad, pad, pad, pad],
    });
    return options.relu ? this.node('Relu', `${name}.relu`, [out]) : out;
  }

  bottleneck(name: string, input: string, inChannels: number, width: number, stride: number): string {
    const outChannels = width * EXPANSION;
    let x = this.conv(`${name}.conv1`, input, {
      inChannels,
      outChannels: width,
      kernel: 1,
      stride: 1,
      relu: true,
    });
    x = this.conv(`${name}.conv2`, x, {
      inChannels: width,
      outChannels: width,
      kernel: 3,
      stride,
      relu: true,
    });
    x = this.conv(`${name}.conv3`, x, {
      inChannels: width,
      outChannels,
      kernel: 1,
      stride: 1,
      relu: false,
      gain: RESIDUAL_GAIN,
    });
    const shortcut =
      stride !== 1 || inChannels !== outChannels
        ? this.conv(`${name}.downsample`, input, { inChannels, outChannels, kernel: 1, stride, relu: false })
        : input;
    const sum = this.node('Add', `${name}.add`, [x, shortcut]);
    return this.node('Relu', `${name}.relu`, [sum]);
  }
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) {
  const root = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
  const target = resolve(process.argv[2] ?? join(root, 'bench', '.work', 'resnet50.onnx'));
  const started = performance.now();
  await makeResnet50(target);
  console.log(`wrote ${target} in ${Math.round(performance.now() - started)} ms`);
}
