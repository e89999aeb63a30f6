import type { ImageCodec } from './preprocess/image-codec.js';
import type { Prediction } from './model/classification.js';
import type { Tensor } from './tensor/tensor.js';
import type { ServedModel } from './registry/served-model.js';
import { topK } from './model/classification.js';
import { imagesToTensor } from './preprocess/image-to-tensor.js';
import { SkiffError } from './errors.js';

const STATE_WORDS = {
  loading: 'is loading',
  'warming-up': 'is warming up',
  ready: 'is ready',
  failed: 'failed to load',
  unloading: 'is unloading',
} as const satisfies Record<ServedModel['state'], string>;

export interface InferenceLimits {
  /** Decoded images may have at most this many pixels (width x height). */
  readonly maxImagePixels: number;
  /** Largest top_k a request may ask for. */
  readonly maxTopK: number;
}

export interface Classification {
  readonly model: string;
  readonly predictions: Prediction[];
}

/**
 * The data plane every protocol adapter calls: health, the models served, image classification and raw
 * tensor inference. Adapters only translate wire formats to these calls and errors back.
 */
export class InferenceService {
  private readonly models = new Map<string, ServedModel>();
  private draining = false;
  /** What the server is doing before any model is registered (fetching, reading config). */
  startupPhase = 'starting';

  constructor(
    private readonly codec: ImageCodec,
    private readonly limits: InferenceLimits,
  ) {}

  add(model: ServedModel): void {
    this.models.set(model.name, model);
  }

  list(): readonly ServedModel[] {
    return [...this.models.values()];
  }

  live(): boolean {
    return true;
  }

  /** Ready when not draining and every model is ready: Kubernetes should send traffic only then. */
  ready(): boolean {
    if (this.draining || this.models.size === 0) return false;
    for (const model of this.models.values()) if (model.state !== 'ready') return false;
    return true;
  }

  /** One line on why the server is not ready, for health answers and logs. */
  notReadyReason(): string | undefined {
    if (this.draining) return 'the server is shutting down';
    if (this.models.size === 0) return `no model is loaded yet: ${this.startupPhase}`;
    for (const model of this.models.values()) {
      if (model.state !== 'ready')
        return `model "${model.name}" ${STATE_WORDS[model.state]}: ${model.reason}`;
    }
    return undefined;
  }

  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** The model named, or the only model when none is named. Throws not_found / unavailable. */
  model(name: string | undefined): ServedModel {
    if (name === undefined) {
      const [only, ...rest] = this.models.values();
      if (only === undefined) throw new SkiffError('SKIFF_MODEL_NOT_FOUND', 'no model is being served');
      if (rest.length > 0) {
        throw new SkiffError(
          'SKIFF_BAD_PARAMETER',
          `several models are served (${[...this.models.keys()].join(', ')}); name one with ?model=`,
        );
      }
      return only;
    }
    const model = this.models.get(name);
    if (model === undefined) {
      throw new SkiffError(
        'SKIFF_MODEL_NOT_FOUND',
        `no model named "${name}"; served: ${[...this.models.keys()].join(', ')}`,
      );
    }
    return model;
  }

  async classifyImage(modelName: string | undefined, bytes: Uint8Array, k: number): Promise<Classification> {
    if (!Number.isInteger(k) || k < 1 || k > this.limits.maxTopK) {
      throw new SkiffError(
        'SKIFF_BAD_PARAMETER',
        `top_k must be an integer from 1 to ${this.limits.maxTopK}`,
      );
    }
    const model = this.readyModel(modelName);
    if (!model.classifier.ok) {
      throw new SkiffError(
        'SKIFF_NOT_AN_IMAGE_MODEL',
        `model "${model.name}" does not take images: ${model.classifier.reason}`,
      );
    }
    const { input, output, labels } = model.classifier.contract;
    const image = await this.codec.decode({
      bytes,
      width: input.width,
      height: input.height,
      resizeMode: input.resizeMode,
      resizeShorterSide: input.resizeShorterSide,
      maxPixels: this.limits.maxImagePixels,
    });
    this.checkAccepting(model);
    const outputs = await model.infer({ [input.name]: imagesToTensor([image], input) }, [output.name]);
    const scores = outputs[output.name];
    if (scores === undefined)
      throw new SkiffError('SKIFF_INFERENCE_FAILED', `the model returned no output "${output.name}"`);
    return { model: model.name, predictions: topK(scores, 0, output, labels, k) };
  }

  async infer(
    modelName: string,
    inputs: Readonly<Record<string, Tensor>>,
    outputNames?: readonly string[],
  ): Promise<Record<string, Tensor>> {
    return this.readyModel(modelName).infer(inputs, outputNames);
  }

  private readyModel(name: string | undefined): ServedModel {
    const model = this.model(name);
    this.checkAccepting(model);
    return model;
  }

  // Draining only takes readiness away: requests still arriving while endpoints update are served.
  private checkAccepting(model: ServedModel): void {
    if (model.state !== 'ready') {
      throw new SkiffError(
        'SKIFF_MODEL_NOT_READY',
        `model "${model.name}" is not ready (${model.state}: ${model.reason})`,
      );
    }
  }
}
