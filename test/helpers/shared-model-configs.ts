/**
 * model.json contents for the models in ../shared/models whose contract cannot be read from the file alone
 * (see its README): used by every test that serves them, so they all test the same contract.
 */

/** MobileNet V2 _native: uint8 NHWC, 1001 classes with background, spelled out in model.json. */
export const MOBILENET_V2_NATIVE_CONFIG = {
  input: {
    layout: 'NHWC',
    dtype: 'uint8',
    colorOrder: 'RGB',
    size: 224,
    resizeShorterSide: 256,
    scale: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
  },
  output: { name: 'logits', kind: 'logits', backgroundClass: true },
} as const;

/** SqueezeNet 1.1 fp16: float16 BGR 0..255 minus the Caffe mean, softmax output. */
export const SQUEEZENET_FP16_CONFIG = {
  input: { colorOrder: 'BGR', dtype: 'float16', scale: 1, mean: [104, 117, 123], std: [1, 1, 1] },
  output: { kind: 'probabilities' },
} as const;
