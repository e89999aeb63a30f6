import type { ModelRepository, RepositoryIndexEntry } from './model-repository.js';
import { SkiffError } from '../errors.js';

/** The repository behind `--model-repository`, and whether its load/unload API is switched on. */
export interface ServedRepository {
  readonly source: ModelRepository;
  readonly apiEnabled: boolean;
}

/**
 * Triton's model repository extension as the inference service offers it: the index, load and unload, each
 * refused with the reason when the server has no repository (`--model`) or its API is off.
 */
export class RepositoryApi {
  constructor(private readonly repository: ServedRepository | undefined) {}

  /** Whether there is a repository at all (the server's metadata then lists the extension). */
  get present(): boolean {
    return this.repository !== undefined;
  }

  /** Why a repository model is not served after an explicit unload; undefined otherwise. */
  unloadedReason(name: string): string | undefined {
    return this.repository?.source.unloadedReason(name);
  }

  async index(readyOnly: boolean): Promise<RepositoryIndexEntry[]> {
    const entries = await this.api().index();
    return readyOnly ? entries.filter((entry) => entry.state === 'READY') : entries;
  }

  /**
   * Loads or reloads a model as the repository holds it. `parameters` are the names of the load request's
   * parameters: Triton's `config` and `file:<path>` would replace the model's configuration or files, which
   * Skiff does not do, so they are refused (SKIFF_LOAD_OVERRIDE_UNSUPPORTED) the same way on every protocol
   * rather than ignored; any other parameter is ignored, as Triton ignores those it does not know.
   */
  async load(name: string, parameters: readonly string[]): Promise<void> {
    const api = this.api();
    const overrides = parameters.filter((key) => key === 'config' || key.startsWith('file:'));
    if (overrides.length > 0) {
      throw new SkiffError(
        'SKIFF_LOAD_OVERRIDE_UNSUPPORTED',
        `Skiff loads a model as the repository holds it; a load with ${overrides.map((k) => `"${k}"`).join(', ')} (a config or file override) is not supported: change the files under the repository and load again`,
      );
    }
    await api.load(name);
  }

  async unload(name: string): Promise<void> {
    await this.api().unload(name);
  }

  private api(): ModelRepository {
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
}
