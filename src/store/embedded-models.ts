import { fileURLToPath } from 'node:url';

/**
 * A model that ships inside the Skiff package (`models/<name>/`: model.onnx, model.json, labels, provenance), so
 * that `skiff serve` answers with no network at all. Kept to one small model: every byte here is in every
 * install and every image.
 */
export interface EmbeddedModel {
  readonly name: string;
  readonly description: string;
  /** Absolute path of the folder holding model.onnx and model.json. */
  readonly dir: string;
  readonly bytes: number;
  /** Accuracy on the ImageNet validation set as published for these weights. */
  readonly accuracy: { readonly top1Percent: number; readonly top5Percent: number };
}

/** The model `skiff serve` uses when none is named. */
export const DEFAULT_MODEL = 'mobilenetv2-int8';

// From dist/src/store/ (and src/store/ in the image) up to the package root, where models/ sits.
const MODELS_ROOT = new URL('../../../models/', import.meta.url);

const EMBEDDED: readonly EmbeddedModel[] = Object.freeze([
  Object.freeze({
    name: DEFAULT_MODEL,
    description:
      'MobileNet V2 1.0, int8 (quantization-aware trained), 224x224, shipped with Skiff (the default)',
    dir: fileURLToPath(new URL(`${DEFAULT_MODEL}/`, MODELS_ROOT)),
    bytes: 3_563_808,
    // TF-slim's published figure for the quantized checkpoint; models/mobilenetv2-int8/PROVENANCE.md.
    accuracy: Object.freeze({ top1Percent: 70.8, top5Percent: 89.9 }),
  }),
]);

/** Exact names only, so a path never matches by accident. */
export function findEmbeddedModel(name: string): EmbeddedModel | undefined {
  return EMBEDDED.find((model) => model.name === name);
}

export function embeddedModelNames(): readonly string[] {
  return EMBEDDED.map((model) => model.name);
}
