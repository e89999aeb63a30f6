/**
 * model.json contents for the committed models in test/assets/models (see its PROVENANCE.md): used by every
 * test that serves them, so they all test the same contract.
 */

/**
 * MobileNet V1 0.25 _native: uint8 NHWC 128 px, 1001 classes with background, all spelled out in model.json
 * (what Skiff also reads from the model file alone: tests serve it both ways).
 */
export const MOBILENET_V1_NATIVE_CONFIG = {
  input: {
    layout: 'NHWC',
    dtype: 'uint8',
    colorOrder: 'RGB',
    size: 128,
    resizeShorterSide: 146,
    scale: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
  },
  output: { name: 'logits', kind: 'logits', backgroundClass: true },
} as const;

/** SqueezeNet 1.1 fp16: float16 BGR 0..255 minus the Caffe mean, softmax output (not readable from the file). */
export const SQUEEZENET_FP16_CONFIG = {
  input: { colorOrder: 'BGR', dtype: 'float16', scale: 1, mean: [104, 117, 123], std: [1, 1, 1] },
  output: { kind: 'probabilities' },
} as const;
