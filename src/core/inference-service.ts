import type { ImageCodec } from './preprocess/image-codec.js';
import type { RepositoryIndexEntry } from './registry/model-repository.js';
import type { ServedRepository } from './registry/repository-api.js';
import type {
  InferRequest,
  InferResponse,
  ModelConfiguration,
  ModelMetadata,
  RequestedOutput,
  ServerMetadata,
} from './inference-types.js';
import type { TensorInfo } from './tensor/tensor.js';
import type { ServedModel } from './registry/served-model.js';
import type { RequestContext } from './request/request-context.js';
import type { RequestLimits } from './request/request-limits.js';
import type { Classification } from './image-classifier.js';
import type { ModelStatistics } from './statistics/inference-statistics.js';
import { classifyOutput } from './model/classify-output.js';
import { SkiffError } from './errors.js';
import { throwIfEnded } from './request/request-context.js';
import { checkInputs, checkOutputs } from './request/check-request.js';
import { InferenceStatistics } from './statistics/inference-statistics.js';
import { ServedModels } from './registry/served-models.js';
import { ImageClassifier } from './image-classifier.js';
import { modelConfiguration } from './model-configuration.js';
import { STATE_WORDS } from './registry/state-words.js';
import { RepositoryApi } from './registry/repository-api.js';

export interface InferenceServiceOptions {
  readonly server?: { readonly name: string; readonly version: string };
  /** The models served; the composition root shares them with the repository that loads them. */
  readonly models?: ServedModels;
  /** Per model version, what its scheduler reported; the composition root makes it one of the observers. */
  readonly statistics?: InferenceStatistics;
  /** What start-up is doing before any model is registered (fetching, reading config): the StartupRecorder. */
  readonly startup?: { readonly activity: string };
  /**
   * A model that failed to load makes the whole server unready (the OIP and Triton reading: ready means
   * every model is); `--no-strict-readiness` turns it off. Default: true.
   */
  readonly failedModelsBlockReadiness?: boolean;
  /** The repository behind `--model-repository`, and whether its load/unload API is switched on. */
  readonly repository?: ServedRepository | undefined;
}

/**
 * The data plane every protocol adapter calls: health, the models served, image classification and raw
 * tensor inference. Adapters only translate wire formats to these calls and errors back. Every request
 * carries its RequestContext: a request whose client left or whose deadline passed stops at the next step,
 * and each costly step (decoding, queueing) is admitted before it is paid for.
 */
export class InferenceService {
  readonly models: ServedModels;
  readonly statistics: InferenceStatistics;
  private readonly classifier: ImageClassifier;
  private readonly server: { readonly name: string; readonly version: string };
  private readonly startup: { readonly activity: string };
  private readonly failedModelsBlockReadiness: boolean;
  private readonly repository: RepositoryApi;
  private draining = false;

  constructor(
    codec: ImageCodec,
    readonly limits: RequestLimits,
    options: InferenceServiceOptions = {},
  ) {
    this.models = options.models ?? new ServedModels();
    this.statistics = options.statistics ?? new InferenceStatistics();
    this.classifier = new ImageClassifier(codec, limits, this.models);
    this.server = options.server ?? { name: 'skiff', version: '0.0.0' };
    this.startup = options.startup ?? { activity: 'starting' };
    this.failedModelsBlockReadiness = options.failedModelsBlockReadiness ?? true;
    this.repository = new RepositoryApi(options.repository);
  }

  serverMetadata(): ServerMetadata {
    return {
      name: this.server.name,
      version: this.server.version,
      // Triton's names; model_repository only where there is a repository to manage.
      extensions: [
        'binary_tensor_data',
        'classification',
        'model_configuration',
        'statistics',
        ...(this.repository.present ? ['model_repository'] : []),
      ],
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

  /** The model's configuration as Skiff serves it (see modelConfiguration); SKIFF_MODEL_NOT_READY before it loaded. */
  modelConfiguration(name: string, version?: string): ModelConfiguration {
    return modelConfiguration(this.model(name, version));
  }

  /**
   * Statistics (Triton's extension): of every version of every model served when `name` is undefined, of
   * every version of that model, or of one version. Throws not_found for an unknown model or version.
   */
  modelStatistics(name?: string, version?: string): ModelStatistics[] {
    const versions =
      name === undefined
        ? this.models.list()
        : version === undefined
          ? this.models.versionsOf(name)
          : [this.model(name, version)];
    return versions.map((model) => this.statistics.of(model.name, model.version));
  }

  /** Whether the model can take requests now, and if not, why (for ready endpoints). */
  modelReadiness(
    name: string,
    version?: string,
  ): { readonly name: string; readonly ready: boolean; readonly reason: string } {
    // Triton answers an unloaded repository model "not ready" rather than "unknown" (its model-control example).
    const unloaded = this.models.has(name) ? undefined : this.repository.unloadedReason(name);
    if (unloaded !== undefined) return { name, ready: false, reason: `model "${name}" is ${unloaded}` };
    const model = this.model(name, version);
    if (model.state === 'ready') return { name: model.name, ready: true, reason: 'ready' };
    return {
      name: model.name,
      ready: false,
      reason: `model "${model.name}" ${STATE_WORDS[model.state]}: ${model.reason}`,
    };
  }

  /** The name of every model served (each once), in the order they were added. */
  modelNames(): string[] {
    return this.models.names();
  }

  /**
   * Refuses (SKIFF_QUEUE_FULL) a request that would find this model's queue full: adapters ask before
   * reading a body, so an overloaded server answers 503 without paying for the upload. Unknown and unready
   * models are left to the route, which names the problem. The place is only probed, not kept.
   */
  refuseIfFull(name: string | undefined): void {
    let model: ServedModel;
    try {
      model = this.model(name);
    } catch {
      return;
    }
    if (model.state === 'ready' && model.full) model.reserve().release();
  }

  /**
   * Tensor inference, the Open Inference Protocol way: inputs are checked against the model's declared
   * names, types and fixed dimensions before anything runs, so a bad request gets a precise 400 rather
   * than a runtime error; outputs must exist and be named once each.
   */
  async inferTensors(context: RequestContext, request: InferRequest): Promise<InferResponse> {
    const model = this.models.ready(request.model, request.version);
    checkInputs(model.name, model.inputs, request.inputs);
    const requested: readonly RequestedOutput[] =
      request.outputs ?? model.outputs.map((o) => ({ name: o.name }));
    checkOutputs(model.name, model.outputs, requested);
    throwIfEnded(context);
    const results = await model.infer(
      request.inputs,
      requested.map((o) => o.name),
      context,
    );
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
        // Skiff's labels leave out a background class; indices are the output tensor's (Triton's meaning).
        const shift = aligned?.output.backgroundClass === true ? 1 : 0;
        const labelAt = (index: number): string | undefined => aligned?.labels?.short[index - shift];
        return { name: output.name, tensor: classifyOutput(tensor, output.classification, labelAt) };
      }),
    };
  }

  /** One image (`/predict`, Seldon binData): classifyImages for a single image. */
  async classifyImage(
    context: RequestContext,
    modelName: string | undefined,
    bytes: Uint8Array,
    k: number,
  ): Promise<Classification> {
    const [result] = await this.classifyImages(context, modelName, [bytes], k);
    if (result === undefined) throw new SkiffError('SKIFF_INTERNAL', 'no classification came back');
    return result;
  }

  /**
   * Classifies each image in turn (KServe V1 instances, Seldon binData, /predict). Each one takes a place in
   * the model's queue, then its share of the decoding budget, before it is decoded; the request stops at the
   * next image once its client has left or its deadline passed.
   */
  classifyImages(
    context: RequestContext,
    modelName: string | undefined,
    images: readonly Uint8Array[],
    k: number,
  ): Promise<Classification[]> {
    return this.classifier.classifyImages(context, modelName, images, k);
  }

  /** Every version of every model served. */
  list(): readonly ServedModel[] {
    return this.models.list();
  }

  live(): boolean {
    return true;
  }

  /**
   * Ready when not draining, something is served, and nothing is still loading. A model that failed to
   * load keeps the server unready while `failedModelsBlockReadiness` (the default); without it, it is
   * reported by its own ready endpoint and the others serve on.
   */
  ready(): boolean {
    return this.notReadyReason() === undefined;
  }

  /** One line on why the server is not ready, for health answers and logs. */
  notReadyReason(): string | undefined {
    if (this.draining) return 'the server is shutting down';
    const models = this.list();
    if (models.length === 0) return `no model is loaded yet: ${this.startup.activity}`;
    for (const model of models) {
      if (model.state === 'ready' || (model.state === 'failed' && !this.failedModelsBlockReadiness)) continue;
      return `model "${model.name}" ${STATE_WORDS[model.state]}: ${model.reason}`;
    }
    if (!models.some((m) => m.state === 'ready')) return 'no model loaded successfully';
    return undefined;
  }

  /** The repository's models and versions with their state; `readyOnly` keeps the READY ones (Triton's `ready`). */
  repositoryIndex(readyOnly = false): Promise<RepositoryIndexEntry[]> {
    return this.repository.index(readyOnly);
  }

  /** Loads or reloads a repository model (RepositoryApi.load: a config or file override is refused). */
  loadModel(name: string, parameters: readonly string[] = []): Promise<void> {
    return this.repository.load(name, parameters);
  }

  unloadModel(name: string): Promise<void> {
    return this.repository.unload(name);
  }

  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** The model named (or the only one), at a version or its newest ready one (ServedModels.model). */
  model(name: string | undefined, version?: string): ServedModel {
    return this.models.model(name, version);
  }

  /** Every version served under a name, newest first. */
  versions(name: string): readonly ServedModel[] {
    return this.models.versions(name);
  }
}
