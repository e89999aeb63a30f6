import type { ModelConfigFile, VersionPolicy } from '../model/model-config.js';
import type { Labels } from '../model/labels.js';
import type { Runtime, RuntimeLoadOptions } from '../model/runtime.js';
import type { Logger } from '../logger.js';
import type { InferenceObserver } from '../inference-observer.js';
import type { StartupRecorder } from '../startup-recorder.js';
import type { ServedModels } from './served-models.js';
import { ServedModel } from './served-model.js';
import { SkiffError } from '../errors.js';
import { compareVersions } from './served-models.js';
import { publicFailureReason } from './public-reason.js';

const UNLOADED_WHILE_LOADING = 'the model was unloaded while it was loading';

export interface RepositoryEntry {
  readonly name: string;
  readonly config: ModelConfigFile;
  readonly labels: Labels | undefined;
  /** Every version present on disk, with its model file. */
  readonly versions: readonly { readonly version: string; readonly modelPath: string }[];
}

/**
 * Where repository models come from (a directory, in practice). Called on start-up and on every explicit
 * load; `read` throws SKIFF_MODEL_NOT_FOUND for an unknown name and the config/labels errors for a model
 * whose files are wrong (or that do not answer in time), and rejects with the signal's reason once it aborts.
 */
export interface RepositorySource {
  listNames(): Promise<string[]>;
  read(name: string, signal?: AbortSignal): Promise<RepositoryEntry>;
}

export interface RepositoryIndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state: 'READY' | 'LOADING' | 'UNAVAILABLE';
  readonly reason: string;
}

export interface ModelRepositoryOptions {
  readonly runtimeOptions: RuntimeLoadOptions;
  readonly maxQueueSize: number;
  /** Longest one version may take to load, warm-up included (ServedModelSpec.loadTimeoutMs). */
  readonly loadTimeoutMs?: number;
  readonly observer?: InferenceObserver;
  /** Told how the first loads go, while the server starts. */
  readonly startup?: StartupRecorder;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * A model repository (Triton's layout): loads every model it holds, each version chosen by the model's
 * version policy, and loads or unloads one model on request without touching the others. A model that
 * fails to load is kept among the served models as 'failed' so its ready endpoint can say why.
 */
export class ModelRepository {
  private readonly busy = new Map<string, Promise<void>>();
  private readonly unloaded = new Map<string, string>();
  /** The loads in progress, so that an unload need not wait for one that may be stuck. */
  private readonly loading = new Map<string, AbortController>();

  constructor(
    private readonly source: RepositorySource,
    private readonly models: ServedModels,
    private readonly runtime: Runtime,
    private readonly options: ModelRepositoryOptions,
  ) {}

  /** Loads every model; resolves when all have finished, successfully or not. */
  async loadAll(): Promise<void> {
    const names = await this.source.listNames();
    await Promise.all(names.map((name) => this.load(name).catch(() => undefined)));
  }

  /**
   * (Re)loads a model. The versions already serving keep serving until the new ones are ready; versions the
   * policy no longer selects are then unloaded. Throws the load error (the model is then reported failed).
   */
  load(name: string): Promise<void> {
    const abort = new AbortController();
    const loading = this.exclusive(name, async () => {
      this.loading.set(name, abort);
      let entry: RepositoryEntry;
      try {
        entry = await this.source.read(name, abort.signal);
      } catch (error) {
        if (error instanceof SkiffError && error.code === 'SKIFF_MODEL_NOT_FOUND') throw error;
        this.markFailed(name, error);
        this.options.logger.error('model failed to load', { model: name, error: errorText(error) });
        throw publicLoadError(name, error);
      }
      const selected = selectVersions(
        entry.versions.map((v) => v.version),
        entry.config.versionPolicy,
      );
      if (selected.length === 0) {
        const error = new SkiffError(
          'SKIFF_MODEL_LOAD_FAILED',
          `model "${name}" has no version matching its version policy`,
        );
        this.markFailed(name, error);
        throw error;
      }
      const previous = [...this.models.versions(name)];
      const fresh = selected.map((version) =>
        this.servedModel(entry, version, entry.versions.find((v) => v.version === version)?.modelPath ?? ''),
      );
      // New versions appear as loading at once; replaced ones keep serving until the swap below.
      for (const model of fresh)
        if (!previous.some((p) => p.version === model.version && p.state === 'ready')) this.models.add(model);
      const results = await Promise.allSettled(
        fresh.map((model) => model.load(this.runtime, this.options.now, abort.signal)),
      );
      const failures = results.flatMap((r, i) =>
        r.status === 'rejected' ? [{ model: fresh[i], error: r.reason as unknown }] : [],
      );
      for (const [i, result] of results.entries()) {
        const model = fresh[i];
        if (model !== undefined && result.status === 'fulfilled') this.models.add(model);
      }
      for (const old of previous) {
        const replaced = fresh.some(
          (m, i) => m.version === old.version && results[i]?.status === 'fulfilled',
        );
        const dropped = !selected.includes(old.version);
        if (replaced || dropped) {
          if (dropped) this.models.remove(name, old.version);
          await old.unload();
        }
      }
      this.unloaded.delete(name);
      const [first] = failures;
      if (first !== undefined) {
        this.options.logger.error('model failed to load', {
          model: name,
          version: first.model?.version,
          error: errorText(first.error),
        });
        throw publicLoadError(name, first.error);
      }
      this.options.logger.info('model loaded', { model: name, versions: selected });
    });
    return loading.finally(() => {
      if (this.loading.get(name) === abort) this.loading.delete(name);
    });
  }

  /** Unloads every version of a model; requests already running finish first, a load in progress is given up. */
  unload(name: string): Promise<void> {
    this.loading.get(name)?.abort(
      new SkiffError('SKIFF_MODEL_LOAD_FAILED', UNLOADED_WHILE_LOADING, {
        publicMessage: UNLOADED_WHILE_LOADING,
      }),
    );
    return this.exclusive(name, async () => {
      const versions = [...this.models.versions(name)];
      if (versions.length === 0 && !(await this.source.listNames()).includes(name)) {
        throw new SkiffError('SKIFF_MODEL_NOT_FOUND', `no model named "${name}" in the repository`);
      }
      this.models.remove(name);
      await Promise.all(versions.map((m) => m.unload()));
      this.unloaded.set(name, 'unloaded');
      this.options.logger.info('model unloaded', { model: name });
    });
  }

  /** Why a model of the repository is not served after an explicit unload; undefined if it was not unloaded. */
  unloadedReason(name: string): string | undefined {
    return this.unloaded.get(name);
  }

  /** Every model in the repository with each served version's state (Triton's index). */
  async index(): Promise<RepositoryIndexEntry[]> {
    const names = await this.source.listNames();
    const entries: RepositoryIndexEntry[] = [];
    for (const name of names.sort()) {
      const versions = this.models.versions(name);
      if (versions.length === 0) {
        entries.push({ name, state: 'UNAVAILABLE', reason: this.unloaded.get(name) ?? 'not loaded' });
        continue;
      }
      for (const model of versions) {
        const state =
          model.state === 'ready'
            ? 'READY'
            : model.state === 'loading' || model.state === 'warming-up'
              ? 'LOADING'
              : 'UNAVAILABLE';
        entries.push({
          name,
          version: model.version,
          state,
          reason: model.state === 'ready' ? '' : model.reason,
        });
      }
    }
    return entries;
  }

  private markFailed(name: string, error: unknown): void {
    const failed = this.servedModel({ name, config: {}, labels: undefined, versions: [] }, '1', '');
    failed.state = 'failed';
    failed.failure = error;
    failed.reason = publicFailureReason(error);
    if (this.models.versions(name).length === 0) this.models.add(failed);
  }

  /**
   * The one place a served model's spec is put together: what the source read (model.json, labels, the
   * file) and the server-wide settings.
   */
  private servedModel(entry: RepositoryEntry, version: string, modelPath: string): ServedModel {
    return new ServedModel({
      name: entry.name,
      version,
      modelPath,
      config: entry.config,
      labels: entry.labels,
      runtimeOptions: this.options.runtimeOptions,
      maxQueueSize: this.options.maxQueueSize,
      loadTimeoutMs: this.options.loadTimeoutMs,
      observer: this.options.observer,
      startup: this.options.startup,
    });
  }

  /** One load or unload per model at a time; different models proceed in parallel. */
  private exclusive(name: string, work: () => Promise<void>): Promise<void> {
    const previous = this.busy.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.busy.set(name, next);
    return next.finally(() => {
      if (this.busy.get(name) === next) this.busy.delete(name);
    });
  }
}

/** The caller of the load API is a client: it gets the public reason, the log the whole error. */
function publicLoadError(name: string, error: unknown): SkiffError {
  const code = error instanceof SkiffError ? error.code : 'SKIFF_MODEL_LOAD_FAILED';
  return new SkiffError(code, `model "${name}" could not be loaded: ${publicFailureReason(error)}`, {
    cause: error,
  });
}

/** The versions a policy selects from those present, newest first. */
export function selectVersions(present: readonly string[], policy: VersionPolicy | undefined): string[] {
  const sorted = [...present].sort((a, b) => compareVersions(b, a));
  if (policy === undefined) return sorted.slice(0, 1);
  if ('latest' in policy) return sorted.slice(0, policy.latest);
  if ('all' in policy) return sorted;
  return sorted.filter((v) => policy.specific.includes(v));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
