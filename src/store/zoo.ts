import { SkiffError } from '../core/errors.js';
import type { ModelConfigFile } from '../core/model/model-config.js';

/** The onnx/models commit every zoo file is pinned to; its files are Git LFS objects. */
export const ZOO_COMMIT = 'b1eeaa1ac722dcc1cd1a8284bde34393dab61c3d';

/** Where zoo paths are fetched from unless a mirror is configured (`--zoo-base-url`). */
export const DEFAULT_ZOO_BASE_URL = `https://github.com/onnx/models/raw/${ZOO_COMMIT}/`;

/** One pinned file of the zoo, addressed relative to the repository root. */
export interface ZooFile {
  readonly path: string;
  readonly sha256: string;
  /** Size in bytes where it is known; the sha256 pins the content either way. */
  readonly bytes?: number | undefined;
}

export interface ZooEntry {
  readonly name: ZooName;
  readonly description: string;
  readonly model: ZooFile;
  readonly labels: ZooFile;
  readonly config: ModelConfigFile;
  /** Accuracy on the ImageNet validation set as the zoo publishes it. */
  readonly accuracy?: { readonly top1Percent: number; readonly top5Percent: number } | undefined;
}

export type ZooName = 'resnet50' | 'resnet50-int8' | 'resnet50-v2' | 'mobilenetv2' | 'squeezenet1.1';

const CLASSIFICATION = 'validated/vision/classification';

const SYNSET: ZooFile = {
  path: `${CLASSIFICATION}/synset.txt`,
  sha256: 'acf75ef0abe89694b19056e0796401068b459c457baa30335f240c7692857355',
};

// The recipe the zoo documents for all of these (imagenet_preprocess.py): shorter side 256, centre crop
// 224, RGB, pixel/255 normalised with the ImageNet mean and std; the output is 1000 unnormalised scores.
const IMAGENET_RECIPE: ModelConfigFile = {
  input: {
    layout: 'NCHW',
    dtype: 'float32',
    colorOrder: 'RGB',
    size: 224,
    resizeMode: 'shorter-side-then-center-crop',
    resizeShorterSide: 256,
    scale: 1 / 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  },
  output: { kind: 'logits', backgroundClass: false },
};

function entry(value: ZooEntry): ZooEntry {
  return deepFreeze(value);
}

/** The built-in catalogue, keyed by the name given to `--model`. */
export const ZOO: Readonly<Record<ZooName, ZooEntry>> = Object.freeze({
  resnet50: entry({
    name: 'resnet50',
    description: "ResNet50 v1, fp32, opset 12 (the seed tutorial's model)",
    model: {
      path: `${CLASSIFICATION}/resnet/model/resnet50-v1-12.onnx`,
      bytes: 102576593,
      sha256: '3f03fdef724b22947eed826f1eef1dc5c34151bb4c37d634f1db89dfa2dd1526',
    },
    labels: SYNSET,
    config: IMAGENET_RECIPE,
    accuracy: { top1Percent: 74.97, top5Percent: 92.33 },
  }),
  'resnet50-int8': entry({
    name: 'resnet50-int8',
    description: 'ResNet50 v1 quantised to int8, opset 12 (a quarter of the size; 1.82x faster per the zoo)',
    model: {
      path: `${CLASSIFICATION}/resnet/model/resnet50-v1-12-int8.onnx`,
      bytes: 25816052,
      sha256: 'c234f30975989788b4405f25253275aae247ab6dbdd34aaa69ab0a59ff76f6d0',
    },
    labels: SYNSET,
    config: IMAGENET_RECIPE,
    accuracy: { top1Percent: 74.77, top5Percent: 92.32 },
  }),
  'resnet50-v2': entry({
    name: 'resnet50-v2',
    description: 'ResNet50 v2 (pre-activation), fp32, opset 7',
    model: {
      path: `${CLASSIFICATION}/resnet/model/resnet50-v2-7.onnx`,
      bytes: 102442452,
      sha256: '79102261eb6e5fd7af5d27f41316293e388c5cb691e5d25bfb035c4f64fefe31',
    },
    labels: SYNSET,
    config: IMAGENET_RECIPE,
    accuracy: { top1Percent: 75.81, top5Percent: 92.82 },
  }),
  mobilenetv2: entry({
    name: 'mobilenetv2',
    description: 'MobileNet v2 1.0, fp32, opset 12 (small and fast)',
    model: {
      path: `${CLASSIFICATION}/mobilenet/model/mobilenetv2-12.onnx`,
      bytes: 13964571,
      sha256: 'c0c3f76d93fa3fd6580652a45618618a220fced18babf65774ed169de0432ad5',
    },
    labels: SYNSET,
    config: IMAGENET_RECIPE,
    // Not in REFERENCE.md: the "MobileNet v2-1.0-fp32" row of mobilenet/README.md at ZOO_COMMIT.
    accuracy: { top1Percent: 69.48, top5Percent: 89.26 },
  }),
  'squeezenet1.1': entry({
    name: 'squeezenet1.1',
    description: 'SqueezeNet 1.1, fp32, opset 7 (the smallest)',
    model: {
      path: `${CLASSIFICATION}/squeezenet/model/squeezenet1.1-7.onnx`,
      bytes: 4956208,
      sha256: '1eeff551a67ae8d565ca33b572fc4b66e3ef357b0eb2863bb9ff47a918cc4088',
    },
    labels: SYNSET,
    config: IMAGENET_RECIPE,
    // Not in REFERENCE.md: the "SqueezeNet 1.1" row of squeezenet/README.md at ZOO_COMMIT.
    accuracy: { top1Percent: 56.34, top5Percent: 79.12 },
  }),
});

/** The zoo names in catalogue order, for help text and "did you mean" messages. */
export function zooNames(): readonly ZooName[] {
  return Object.keys(ZOO) as ZooName[];
}

/** Looks a `--model` value up in the catalogue; exact names only, so a path never matches by accident. */
export function findZooEntry(name: string): ZooEntry | undefined {
  return Object.hasOwn(ZOO, name) ? ZOO[name as ZooName] : undefined;
}

/**
 * The address a zoo file is fetched from: `zooBaseUrl` (a mirror of the repository at ZOO_COMMIT) or the
 * GitHub default, joined with the file's repository path. Called by resolveModelSource; throws SkiffError
 * SKIFF_CONFIG_INVALID when the base is not an http(s) URL.
 */
export function zooFileUrl(file: ZooFile, zooBaseUrl: string = DEFAULT_ZOO_BASE_URL): string {
  let base: URL;
  try {
    // Without the trailing slash, URL resolution would drop the base's last segment.
    base = new URL(zooBaseUrl.endsWith('/') ? zooBaseUrl : `${zooBaseUrl}/`);
  } catch (error) {
    // Not echoed: a malformed URL cannot be stripped of the credentials it may carry.
    throw new SkiffError('SKIFF_CONFIG_INVALID', 'the zoo base URL is not a valid URL', { cause: error });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new SkiffError(
      'SKIFF_CONFIG_INVALID',
      `zoo base URL must be http:// or https://, got ${base.protocol}`,
    );
  }
  return new URL(file.path, base).toString();
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
