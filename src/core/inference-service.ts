import type { ImageCodec } from './preprocess/image-codec.js';
import type { Prediction } from './model/classification.js';
import type { ServedModel } from './registry/served-model.js';
import type { ModelRepository, RepositoryIndexEntry } from './registry/model-repository.js';
import type {
  InferRequest,
  InferResponse,
  ModelMetadata,
  RequestedOutput,
  ServerMetadata,
} from './inference-types.js';
import type { Tensor, TensorInfo } from './tensor/tensor.js';
import { topK } from './model/classification.js';
import { classifyOutput } from './model/classify-output.js';
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
  /** Most elements one input tensor may have; adapters check it before converting the data. */
  readonly maxTensorElements: number;
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
  private readonly models = new Map<string, ServedModel[]>();
  private draining = false;
  /** True with a single `--model`: a model that failed to load makes the whole server unready. */
  failedModelsBlockReadiness = true;
  /** The repository behind `--model-repository`, and whether its load/unload API is switched on. */
  repository: { readonly source: ModelRepository; readonly apiEnabled: boolean } | undefined;
  /** What the server is doing before any model is registered (fetching, reading config). */
  startupPhase = 'starting';

  constructor(
    private readonly codec: ImageCodec,
    readonly limits: InferenceLimits,
    private readonly server: { readonly name: string; readonly version: string } = {
      name: 'skiff',
      version: '0.0.0',
    },
  ) {}

  serverMetadata(): ServerMetadata {
    return {
      name: this.server.name,
      version: this.server.version,
      extensions: ['binary_tensor_data', 'classification'],
    };
  }

  /** Metadata of a model (any state: a client may ask what a loading model will take). */
  modelMetadata(name: string, version?: string): ModelMetadata {
    const model = this.model(name, version);
    const describe = (infos: readonly TensorInfo[]): ModelMetadata['inputs'] =>
      infos.map((info) => ({ name: info.name, datatype: info.type, shape: [...info.shape] }));
    return {
      name: model.name,
      versions: this.versions(model.name).map((m) => m.version),
      platform: model.platform,
      inputs: describe(model.inputs),
      outputs: describe(model.outputs),
    };
  }

  /** Whether the model can take requests now, and if not, why (for ready endpoints). */
  modelReadiness(name: string, version?: string): { readonly ready: boolean; readonly reason: string } {
    const model = this.model(name, version);
    if (model.state === 'ready') return { ready: true, reason: 'ready' };
    return { ready: false, reason: `model "${model.name}" ${STATE_WORDS[model.state]}: ${model.reason}` };
  }

  /**
   * Tensor inference, the Open Inference Protocol way: inputs are checked against the model's declared
   * names, types and fixed dimensions before anything runs, so a bad request gets a precise 400 rather
   * than a runtime error.
   */
  async inferTensors(request: InferRequest): Promise<InferResponse> {
    const model = this.readyModel(request.model, request.version);
    checkInputs(model.name, model.inputs, request.inputs);
    const requested: readonly RequestedOutput[] =
      request.outputs ?? model.outputs.map((o) => ({ name: o.name }));
    for (const output of requested) {
      if (!model.outputs.some((o) => o.name === output.name)) {
        throw new SkiffError(
          'SKIFF_BAD_TENSOR',
          `model "${model.name}" has no output "${output.name}"; outputs: ${model.outputs.map((o) => o.name).join(', ')}`,
        );
      }
      const n = output.classification;
      if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
        throw new SkiffError(
          'SKIFF_BAD_PARAMETER',
          `output "${output.name}": classification must be a positive integer`,
        );
      }
    }
    const names = [...new Set(requested.map((o) => o.name))];
    const results = await model.infer(request.inputs, names);
    const labels = model.classifier.ok ? model.classifier.contract : undefined;
    return {
      model: model.name,
      version: model.version,
      id: request.id,
      outputs: requested.map((output) => {
        const tensor = results[output.name];
        if (tensor === undefined)
          throw new SkiffError('SKIFF_INFERENCE_FAILED', `the model returned no output "${output.name}"`);
        if (output.classification === undefined) return { name: output.name, tensor };
        const aligned = labels !== undefined && labels.output.name === output.name ? labels : undefined;
        return {
          name: output.name,
          tensor: classifyOutput(
            tensor,
            output.classification,
            aligned?.labels,
            aligned?.output.backgroundClass ?? false,
          ),
        };
      }),
    };
  }

  /** Serves a model version; a version already served under the same name and version is replaced. */
  add(model: ServedModel): void {
    const versions = (this.models.get(model.name) ?? []).filter((m) => m.version !== model.version);
    versions.push(model);
    versions.sort((a, b) => compareVersions(b.version, a.version));
    this.models.set(model.name, versions);
  }

  /** Stops serving a model (one version, or all); the caller unloads it. */
  remove(name: string, version?: string): void {
    const left = (this.models.get(name) ?? []).filter((m) => version !== undefined && m.version !== version);
    if (left.length === 0) this.models.delete(name);
    else this.models.set(name, left);
  }

  list(): readonly ServedModel[] {
    return [...this.models.values()].flat();
  }

  live(): boolean {
    return true;
  }

  /**
   * Ready when not draining, something is served, and nothing is still loading. A model that failed to
   * load keeps the server unready only when `failedModelsBlockReadiness` (one `--model`); in a repository
   * it is reported by its own ready endpoint and the others serve on.
   */
  ready(): boolean {
    return this.notReadyReason() === undefined;
  }

  /** One line on why the server is not ready, for health answers and logs. */
  notReadyReason(): string | undefined {
    if (this.draining) return 'the server is shutting down';
    const models = this.list();
    if (models.length === 0) return `no model is loaded yet: ${this.startupPhase}`;
    for (const model of models) {
      if (model.state === 'ready' || (model.state === 'failed' && !this.failedModelsBlockReadiness)) continue;
      return `model "${model.name}" ${STATE_WORDS[model.state]}: ${model.reason}`;
    }
    if (!models.some((m) => m.state === 'ready')) return 'no model loaded successfully';
    return undefined;
  }

  async repositoryIndex(): Promise<RepositoryIndexEntry[]> {
    return this.repositoryApi().index();
  }

  async loadModel(name: string): Promise<void> {
    await this.repositoryApi().load(name);
  }

  async unloadModel(name: string): Promise<void> {
    await this.repositoryApi().unload(name);
  }

  private repositoryApi(): ModelRepository {
    if (this.repository === undefined) {
      throw new SkiffError(
        'SKIFF_NO_REPOSITORY',
        'this server serves one model (--model); start it with --model-repository to use the repository API',
      );
    }
    if (!this.repository.apiEnabled) {
      throw new SkiffError(
        'SKIFF_REPOSITORY_API_DISABLED',
        'the repository API is disabled; start the server with --repository-api to enable it',
      );
    }
    return this.repository.source;
  }

  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * The model named, at the version given or else its newest ready version (newest of all when none is
   * ready); with no name, the only model served. Throws not_found.
   */
  model(name: string | undefined, version?: string): ServedModel {
    const versions = this.versionsOf(name);
    if (version !== undefined) {
      const exact = versions.find((m) => m.version === version);
      if (exact === undefined) {
        throw new SkiffError(
          'SKIFF_MODEL_NOT_FOUND',
          `model "${versions[0]?.name ?? String(name)}" has no version "${version}"; served: ${versions.map((m) => m.version).join(', ')}`,
        );
      }
      return exact;
    }
    const chosen = versions.find((m) => m.state === 'ready') ?? versions[0];
    if (chosen === undefined)
      throw new SkiffError('SKIFF_MODEL_NOT_FOUND', `no model named "${String(name)}"`);
    return chosen;
  }

  /** Every version served under a name, newest first. */
  versions(name: string): readonly ServedModel[] {
    return this.models.get(name) ?? [];
  }

  private versionsOf(name: string | undefined): readonly ServedModel[] {
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
    const versions = this.models.get(name);
    if (versions === undefined) {
      throw new SkiffError(
        'SKIFF_MODEL_NOT_FOUND',
        `no model named "${name}"; served: ${[...this.models.keys()].join(', ')}`,
      );
    }
    return versions;
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
    model.checkAdmission();
    const { input, output, labels } = model.classifier.contract;
    const image = await this.codec.decode({
      bytes,
      width: input.width,
      height: input.height,
      resizeMode: input.resizeMode,
      resizeShorterSide: input.resizeShorterSide,
      maxPixels: this.limits.maxImagePixels,
    });
    // The model may have been reloaded while the image was decoding: start over on the version serving now.
    if (this.readyModel(model.name) !== model) return this.classifyImage(model.name, bytes, k);
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

  private readyModel(name: string | undefined, version?: string): ServedModel {
    const model = this.model(name, version);
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

function checkInputs(
  modelName: string,
  declared: readonly TensorInfo[],
  given: Readonly<Record<string, Tensor>>,
): void {
  for (const name of Object.keys(given)) {
    if (!declared.some((d) => d.name === name)) {
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `model "${modelName}" has no input "${name}"; inputs: ${declared.map((d) => d.name).join(', ')}`,
      );
    }
  }
  for (const info of declared) {
    const tensor = given[info.name];
    if (tensor === undefined)
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `input "${info.name}" is missing; model "${modelName}" needs ${declared.map((d) => d.name).join(', ')}`,
      );
    if (tensor.type !== info.type) {
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `input "${info.name}" must be ${info.type}, got ${tensor.type}`,
      );
    }
    const fits =
      tensor.shape.length === info.shape.length && info.shape.every((d, i) => d < 0 || d === tensor.shape[i]);
    if (!fits) {
      throw new SkiffError(
        'SKIFF_BAD_TENSOR',
        `input "${info.name}" has shape [${tensor.shape.join(',')}] but the model takes [${info.shape.map((d) => (d < 0 ? '-1' : String(d))).join(',')}]`,
      );
    }
  }
}

/** Numeric versions compare as numbers ("10" after "9"); anything else as text. */
export function compareVersions(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a.localeCompare(b);
}
