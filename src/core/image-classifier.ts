import type { ImageCodec } from './preprocess/image-codec.js';
import type { Prediction } from './model/classification.js';
import type { ServedModels } from './registry/served-models.js';
import type { Tensor } from './tensor/tensor.js';
import type { ImageClassifierContract } from './model/resolve-image-contract.js';
import type { RequestContext } from './request/request-context.js';
import type { RequestLimits } from './request/request-limits.js';
import { topK } from './model/classification.js';
import { imagesToTensor } from './preprocess/image-to-tensor.js';
import { SkiffError } from './errors.js';
import { throwIfEnded } from './request/request-context.js';
import { PixelBudget } from './request/pixel-budget.js';

/**
 * Images up to this many pixels are decoded by the model's own runtime, in its worker, right before their
 * inference (LoadedModel.inferImage): nothing of them but the header touches the event loop. Larger ones are
 * decoded as before, on libvips' threads beside the model, so that a burst of huge images does not hold the
 * model's worker while small ones wait behind it. 4 Mpx covers what classifiers are usually sent: photos scaled
 * for the web, thumbnails, screenshots.
 */
const IN_MODEL_MAX_PIXELS = 4_194_304;

export interface Classification {
  readonly model: string;
  readonly predictions: Prediction[];
}

/**
 * Image classification for the inference service: each image takes a place in the model's queue, then its
 * share of the decoding budget, before it is decoded. Called from the event loop, concurrently.
 */
export class ImageClassifier {
  private readonly decoding: PixelBudget;

  constructor(
    private readonly codec: ImageCodec,
    private readonly limits: RequestLimits,
    private readonly models: ServedModels,
  ) {
    this.decoding = new PixelBudget(limits.maxDecodePixels);
  }

  /** Classifies each image in turn; the request stops at the next image once it has ended. */
  async classifyImages(
    context: RequestContext,
    modelName: string | undefined,
    images: readonly Uint8Array[],
    k: number,
  ): Promise<Classification[]> {
    if (!Number.isInteger(k) || k < 1 || k > this.limits.maxTopK) {
      throw new SkiffError(
        'SKIFF_BAD_PARAMETER',
        `top_k must be an integer from 1 to ${this.limits.maxTopK}`,
      );
    }
    if (images.length > this.limits.maxInstances) {
      throw new SkiffError(
        'SKIFF_TOO_MANY_INSTANCES',
        `${images.length} images in one request; the limit is ${this.limits.maxInstances} (--max-instances)`,
      );
    }
    const results: Classification[] = [];
    for (const bytes of images) {
      throwIfEnded(context);
      results.push(await this.classifyOne(context, modelName, bytes, k));
    }
    return results;
  }

  private async classifyOne(
    context: RequestContext,
    modelName: string | undefined,
    bytes: Uint8Array,
    k: number,
    retried = false,
  ): Promise<Classification> {
    const model = this.models.ready(modelName);
    if (!model.classifier.ok) {
      throw new SkiffError(
        'SKIFF_NOT_AN_IMAGE_MODEL',
        `model "${model.name}" does not take images: ${model.classifier.reason}`,
      );
    }
    const { input, output } = model.classifier.contract;
    const reservation = model.reserve();
    let tensor;
    try {
      const header = await this.codec.probe(bytes);
      const pixels = header.width * header.height;
      if (pixels > this.limits.maxImagePixels) {
        throw new SkiffError(
          'SKIFF_IMAGE_TOO_LARGE',
          `the image is ${header.width}x${header.height} (${pixels} pixels); the limit is ${this.limits.maxImagePixels} pixels (--max-image-pixels)`,
        );
      }
      throwIfEnded(context);
      const release = this.decoding.take(pixels);
      if (model.decodesImages && pixels <= IN_MODEL_MAX_PIXELS) {
        // Its budget share is held until the model has decoded and run it (or it left the queue).
        const image = { bytes, header, maxPixels: this.limits.maxImagePixels };
        const outputs = await model.inferImage(image, input, [output.name], {
          context,
          reservation,
          onSettled: release,
        });
        return classification(model.name, outputs, model.classifier.contract, k);
      }
      try {
        const image = await this.codec.decode({
          bytes,
          header,
          width: input.width,
          height: input.height,
          resizeMode: input.resizeMode,
          resizeShorterSide: input.resizeShorterSide,
          maxPixels: this.limits.maxImagePixels,
        });
        throwIfEnded(context);
        tensor = imagesToTensor([image], input);
      } finally {
        release();
      }
    } catch (error) {
      // Idempotent: a place already handed to the queue is not given back twice.
      reservation.release();
      throw error;
    }
    // The model may have been reloaded while the image was decoding: start over on the version serving now.
    if (!retried && this.models.ready(model.name) !== model) {
      reservation.release();
      return this.classifyOne(context, model.name, bytes, k, true);
    }
    const outputs = await model.infer({ [input.name]: tensor }, [output.name], context, reservation);
    return classification(model.name, outputs, model.classifier.contract, k);
  }
}

function classification(
  model: string,
  outputs: Readonly<Record<string, Tensor>>,
  contract: ImageClassifierContract,
  k: number,
): Classification {
  const { output, labels } = contract;
  const scores = outputs[output.name];
  if (scores === undefined)
    throw new SkiffError('SKIFF_INFERENCE_FAILED', `the model returned no output "${output.name}"`);
  return { model, predictions: topK(scores, 0, output, labels, k) };
}
