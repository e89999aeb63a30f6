import type { ServedModel } from './served-model.js';
import { SkiffError } from '../errors.js';

/**
 * The model versions being served, by name: the model repository adds and removes them, the inference service
 * and the metrics read them. Used from the event loop only.
 */
export class ServedModels {
  private readonly byName = new Map<string, ServedModel[]>();

  /** Serves a model version; a version already served under the same name and version is replaced. */
  add(model: ServedModel): void {
    const versions = (this.byName.get(model.name) ?? []).filter((m) => m.version !== model.version);
    versions.push(model);
    versions.sort((a, b) => compareVersions(b.version, a.version));
    this.byName.set(model.name, versions);
  }

  /** Stops serving a model (one version, or all); the caller unloads it. */
  remove(name: string, version?: string): void {
    const left = (this.byName.get(name) ?? []).filter((m) => version !== undefined && m.version !== version);
    if (left.length === 0) this.byName.delete(name);
    else this.byName.set(name, left);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Every version of every model. */
  list(): readonly ServedModel[] {
    return [...this.byName.values()].flat();
  }

  /** The name of every model served (each once), in the order they were added. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Every version served under a name, newest first. */
  versions(name: string): readonly ServedModel[] {
    return this.byName.get(name) ?? [];
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

  /** Every version served under a name, or of the only model when none is named. Throws not_found. */
  versionsOf(name: string | undefined): readonly ServedModel[] {
    if (name === undefined) {
      const [only, ...rest] = this.byName.values();
      if (only === undefined) throw new SkiffError('SKIFF_MODEL_NOT_FOUND', 'no model is being served');
      if (rest.length > 0) {
        throw new SkiffError(
          'SKIFF_BAD_PARAMETER',
          'several models are served; name one (?model= on /predict, or the model in the path)',
        );
      }
      return only;
    }
    const versions = this.byName.get(name);
    if (versions === undefined) throw new SkiffError('SKIFF_MODEL_NOT_FOUND', `no model named "${name}"`);
    return versions;
  }

  /** `model()`, refused with SKIFF_MODEL_NOT_READY unless it is ready. */
  ready(name: string | undefined, version?: string): ServedModel {
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

/** Numeric versions compare as numbers ("10" after "9"); anything else as text. */
export function compareVersions(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a.localeCompare(b);
}
