import path from 'node:path';
import type { RepositoryEntry, RepositorySource } from '../core/registry/model-repository.js';
import type { ModelConfigFile } from '../core/model/model-config.js';
import type { StartupRecorder } from '../core/startup-recorder.js';
import type { ResolveModelSourceOptions } from './resolve-model-source.js';
import { SkiffError } from '../core/errors.js';
import { readModelConfig, parseModelConfig } from '../config/model-config-file.js';
import { resolveModelSource } from './resolve-model-source.js';
import { resolveLabels } from './resolve-labels.js';
import { findZooEntry } from './zoo.js';

export interface SingleModelOptions {
  /** `--model`: a file, a directory, a URL, a shipped model or a zoo name (resolveModelSource). */
  readonly model: string;
  /** `--name`; default model.json's name, else the file's or the zoo entry's. */
  readonly name?: string | undefined;
  /** `--config`; default the model.json next to the model, else the zoo entry's settings. */
  readonly configPath?: string | undefined;
  /** `--labels`; default what model.json says, else the zoo entry's labels. */
  readonly labelsPath?: string | undefined;
  /** Where and how the model is fetched; `fileTimeoutMs` also bounds each read of model.json and labels. */
  readonly fetch: ResolveModelSourceOptions;
  readonly startup: StartupRecorder;
}

/**
 * `--model X` as a repository of one entry, version 1: the model is found (downloaded if need be), its
 * model.json and labels read, once, on the first call; later calls get the same entry (or the same error).
 * Throws what resolveModelSource, readModelConfig and resolveLabels throw.
 */
export class SingleModelSource implements RepositorySource {
  private entry: Promise<RepositoryEntry> | undefined;

  constructor(private readonly options: SingleModelOptions) {}

  /** Fetched over the network (a URL or a zoo name), which may take minutes; anything else is at hand. */
  get remote(): boolean {
    return /^https?:\/\//i.test(this.options.model) || findZooEntry(this.options.model) !== undefined;
  }

  async listNames(): Promise<string[]> {
    return [(await this.resolve()).name];
  }

  async read(name: string): Promise<RepositoryEntry> {
    const entry = await this.resolve();
    if (name !== entry.name) throw new SkiffError('SKIFF_MODEL_NOT_FOUND', `no model named "${name}"`);
    return entry;
  }

  private resolve(): Promise<RepositoryEntry> {
    this.entry ??= this.prepare();
    return this.entry;
  }

  private async prepare(): Promise<RepositoryEntry> {
    const { model, startup } = this.options;
    const timeoutMs = this.options.fetch.fileTimeoutMs;
    startup.doing(`fetching model ${model}`);
    const source = await resolveModelSource(model, this.options.fetch);
    startup.doing('reading the model config and labels');
    const configPath = this.options.configPath ?? source.configPath;
    const config: ModelConfigFile =
      configPath !== undefined
        ? await readModelConfig(configPath, { timeoutMs })
        : parseModelConfig(source.config ?? {}, `zoo entry ${model}`);
    const labels = await resolveLabels({
      flag: this.options.labelsPath,
      configured: config.labels,
      baseDir: configPath === undefined ? process.cwd() : path.dirname(configPath),
      bundled: source.labelsPath,
      check: () => ({ code: 'SKIFF_LABELS_INVALID', what: 'labels file', timeoutMs }),
    });
    startup.mark('model_fetch');
    return {
      name: this.options.name ?? config.name ?? source.defaultName,
      config,
      labels,
      versions: [{ version: '1', modelPath: source.modelPath }],
    };
  }
}
