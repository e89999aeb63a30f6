import type { ImageCodec } from './preprocess/image-codec.js';
import type { Prediction } from './model/classification.js';
import type { ServedModel } from './registry/served-model.js';
import type { ModelRepository, RepositoryIndexEntry } from './registry/model-repository.js';
import type {
  ConfiguredTensor,
  InferRequest,
  InferResponse,
  ModelConfiguration,
  ModelMetadata,
  RequestedOutput,
  ServerMetadata,
} from './inference-types.js';
import type { Tensor, TensorInfo } from './tensor/tensor.js';
import type { ImageClassifierContract } from './model/resolve-image-contract.js';
import type { RequestContext } from './request/request-context.js';
import type { RequestLimits } from './request/request-limits.js';
import { topK } from './model/classification.js';
import { classifyOutput } from './model/classify-output.js';
import { imagesToTensor } from './preprocess/image-to-tensor.js';
import { SkiffError } from './errors.js';
import { throwIfEnded } from './request/request-context.js';
import { PixelBudget } from './request/pixel-budget.js';
import { checkInputs, checkOutputs } from './request/check-request.js';
import type { ModelStatistics } from './statistics/inference-statistics.js';
import { InferenceStatistics } from './statistics/inference-statistics.js';

/**
 * Images up to this many pixels are decoded by the model's own runtime, in its worker, right before their
 * inference (LoadedModel.inferImage): nothing of them but the header touches the event loop. Larger ones are
 * decoded as before, on libvips' threads beside the model, so that a burst of huge images does not hold the
 * model's worker while small ones wait behind it. 4 Mpx covers what classifiers are usually sent: photos scaled
 * for the web, thumbnails, screenshots.
 */
const IN_MODEL_MAX_PIXELS = 4_194_304;

const STATE_WORDS = {
  loading: 'is loading',
  'warming-up': 'is warming up',
  ready: 'is ready',
  failed: 'failed to load',
  unloading: 'is unloading',
} as const satisfies Record<ServedModel['state'], string>;

export interface Classification {
  readonly model: string;
  readonly predictions: Prediction[];
}

/**
 * The data plane every protocol adapter calls: health, the models served, image classification and raw
 * tensor inference. Adapters only translate wire formats to these calls and errors back. Every request
 * carries its RequestContext: a request whose client left or whose deadline passed stops at the next step,
 * and each costly step (decoding, queueing) is admitted before it is paid for.
 */
export class InferenceService {
  private readonly models = new Map<string, ServedModel[]>();
  private draining = false;
  private readonly decoding: PixelBudget;
  /**
   * A model that failed to load makes the whole server unready (the OIP and Triton reading: ready means
   * every model is); `--no-strict-readiness` turns it off for a repository.
   */
  failedModelsBlockReadiness = true;
  /** The repository behind `--model-repository`, and whether its load/unload API is switched on. */
  repository: { readonly source: ModelRepository; readonly apiEnabled: boolean } | undefined;
  /** What the server is doing before any model is registered (fetching, reading config). */
  startupPhase = 'starting';
  /** Per model version, what its scheduler reported; the composition root makes it one of the observers. */
  readonly statistics = new InferenceStatistics();

  constructor(
    private readonly codec: ImageCodec,
    readonly limits: RequestLimits,
    private readonly server: { readonly name: string; readonly version: string } = {
      name: 'skiff',
      version: '0.0.0',
    },
  ) {
    this.decoding = new PixelBudget(limits.maxDecodePixels);
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
        ...(this.repository === undefined ? [] : ['model_repository']),
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

  /**
   * The model's configuration as Skiff serves it (Triton's model configuration extension). Needs a loaded
   * model: its tensors are only known once the runtime has read the file (SKIFF_MODEL_NOT_READY before).
   */
  modelConfiguration(name: string, version?: string): ModelConfiguration {
    const model = this.model(name, version);
    if (model.state !== 'ready' && model.inputs.length === 0) {
      throw new SkiffError(
        'SKIFF_MODEL_NOT_READY',
        `model "${model.name}" is not loaded (${STATE_WORDS[model.state]}); its configuration is known once it is`,
      );
    }
    const batching = model.batching;
    const batched = batching !== undefined;
    const layout = model.classifier.ok ? model.classifier.contract.input : undefined;
    const tensor = (info: TensorInfo): ConfiguredTensor => ({
      name: info.name,
      datatype: info.type,
      dims: batched ? info.shape.slice(1) : [...info.shape],
      ...(layout?.name === info.name ? { format: layout.layout } : {}),
    });
    const queueTimeoutMs = model.spec.config.batching?.queueTimeoutMs ?? 0;
    return {
      name: model.name,
      platform: model.platform,
      backend: 'onnxruntime',
      versionPolicy: model.spec.config.versionPolicy ?? { latest: 1 },
      maxBatchSize: batching?.maxBatchSize ?? 0,
      inputs: model.inputs.map(tensor),
      outputs: model.outputs.map(tensor),
      instanceCount: model.spec.runtimeOptions.workers,
      dynamicBatching:
        batching === undefined
          ? undefined
          : {
              preferredBatchSizes: batching.preferredBatchSizes,
              maxQueueDelayMicroseconds: Math.round(batching.maxQueueDelayMs * 1000),
              maxQueueSize: model.maxQueueSize,
              queueTimeoutMicroseconds: Math.round(queueTimeoutMs * 1000),
            },
    };
  }

  /**
   * Statistics (Triton's extension): of every version of every model served when `name` is undefined, of
   * every version of that model, or of one version. Throws not_found for an unknown model or version.
   */
  modelStatistics(name?: string, version?: string): ModelStatistics[] {
    const versions =
      name === undefined
        ? [...this.models.values()].flat()
        : version === undefined
          ? [...this.versionsOf(name)]
          : [this.model(name, version)];
    return versions.map((model) => this.statistics.of(model.name, model.version));
  }

  /** Whether the model can take requests now, and if not, why (for ready endpoints). */
  modelReadiness(
    name: string,
    version?: string,
  ): { readonly name: string; readonly ready: boolean; readonly reason: string } {
    // Triton answers an unloaded repository model "not ready" rather than "unknown" (its model-control example).
    const unloaded = this.models.has(name) ? undefined : this.repository?.source.unloadedReason(name);
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
    return [...this.models.keys()];
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
    const model = this.readyModel(request.model, request.version);
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
    const model = this.readyModel(modelName);
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
    if (!retried && this.readyModel(model.name) !== model) {
      reservation.release();
      return this.classifyOne(context, model.name, bytes, k, true);
    }
    const outputs = await model.infer({ [input.name]: tensor }, [output.name], context, reservation);
    return classification(model.name, outputs, model.classifier.contract, k);
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
    if (models.length === 0) return `no model is loaded yet: ${this.startupPhase}`;
    for (const model of models) {
      if (model.state === 'ready' || (model.state === 'failed' && !this.failedModelsBlockReadiness)) continue;
      return `model "${model.name}" ${STATE_WORDS[model.state]}: ${model.reason}`;
    }
    if (!models.some((m) => m.state === 'ready')) return 'no model loaded successfully';
    return undefined;
  }

  /** The repository's models and versions with their state; `readyOnly` keeps the READY ones (Triton's `ready`). */
  async repositoryIndex(readyOnly = false): Promise<RepositoryIndexEntry[]> {
    const entries = await this.repositoryApi().index();
    return readyOnly ? entries.filter((entry) => entry.state === 'READY') : entries;
  }

  /**
   * Loads or reloads a model as the repository holds it. `parameters` are the names of the load request's
   * parameters: Triton's `config` and `file:<path>` would replace the model's configuration or files, which
   * Skiff does not do, so they are refused (SKIFF_LOAD_OVERRIDE_UNSUPPORTED) the same way on every protocol
   * rather than ignored; any other parameter is ignored, as Triton ignores those it does not know.
   */
  async loadModel(name: string, parameters: readonly string[] = []): Promise<void> {
    const api = this.repositoryApi();
    const overrides = parameters.filter((key) => key === 'config' || key.startsWith('file:'));
    if (overrides.length > 0) {
      throw new SkiffError(
        'SKIFF_LOAD_OVERRIDE_UNSUPPORTED',
        `Skiff loads a model as the repository holds it; a load with ${overrides.map((k) => `"${k}"`).join(', ')} (a config or file override) is not supported: change the files under the repository and load again`,
      );
    }
    await api.load(name);
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
   * ready); with no name, the only model served. Throws not_found. Messages never list the other models:
   * which models a server holds is for the repository index, behind its own switch.
   */
  model(name: string | undefined, version?: string): ServedModel {
    const versions = this.versionsOf(name);
    if (version !== undefined) {
      const exact = versions.find((m) => m.version === version);
      if (exact === undefined) {
        throw new SkiffError(
          'SKIFF_MODEL_NOT_FOUND',
          `model "${versions[0]?.name ?? String(name)}" has no version "${version}"`,
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
          'several models are served; name one (?model= on /predict, or the model in the path)',
        );
      }
      return only;
    }
    const versions = this.models.get(name);
    if (versions === undefined) throw new SkiffError('SKIFF_MODEL_NOT_FOUND', `no model named "${name}"`);
    return versions;
  }

  private readyModel(name: string | undefined, version?: string): ServedModel {
    const model = this.model(name, version);
    if (model.state !== 'ready') {
      throw new SkiffError(
        'SKIFF_MODEL_NOT_READY',
        `model "${model.name}" is not ready (${model.state}: ${model.reason})`,
      );
    }
    return model;
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

/** Numeric versions compare as numbers ("10" after "9"); anything else as text. */
export function compareVersions(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a.localeCompare(b);
}
