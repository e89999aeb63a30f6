import path from 'node:path';
import type { RepositoryEntry, RepositorySource } from '../core/registry/model-repository.js';
import type { ModelConfigFile } from '../core/model/model-config.js';
import type { ErrorCode } from '../core/errors.js';
import type { FileCheck } from '../host/regular-file.js';
import { SkiffError } from '../core/errors.js';
import { readModelConfig } from '../config/model-config-file.js';
import { listDirectory, requireRegularFile, statIfPresent } from '../host/regular-file.js';
import { resolveLabels } from './resolve-labels.js';

/** Model names: no path separators, no leading dot, so a name can never leave the repository. */
/** A repository folder with no model folders in it: `skiff serve` and `skiff models` refuse it alike. */
export function noModelFolders(dir: string): SkiffError {
  return new SkiffError('SKIFF_MODEL_FILE_MISSING', `the model repository ${dir} holds no model folders`);
}

export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface FileModelRepositoryOptions {
  /** Longest one file-system call may take: a hung network mount never answers. Unset: no limit. */
  readonly fileTimeoutMs?: number | undefined;
}

/**
 * A model repository on disk, Triton's layout: `<dir>/<name>/model.onnx` (served as version 1) or
 * `<dir>/<name>/<version>/model.onnx`, with `<dir>/<name>/model.json` and optionally `labels.txt`. Each of
 * those must be a regular file: anything else (a FIFO, a socket, a device) is refused before it is opened.
 */
export class FileModelRepository implements RepositorySource {
  constructor(
    private readonly root: string,
    private readonly options: FileModelRepositoryOptions = {},
  ) {}

  async listNames(): Promise<string[]> {
    const entries = await listDirectory(
      this.root,
      this.check('SKIFF_MODEL_FILE_MISSING', 'the model repository', undefined),
    );
    return entries
      .filter((d) => d.isDirectory() && MODEL_NAME.test(d.name))
      .map((d) => d.name)
      .sort();
  }

  async read(name: string, signal?: AbortSignal): Promise<RepositoryEntry> {
    if (!MODEL_NAME.test(name)) {
      throw new SkiffError(
        'SKIFF_MODEL_NOT_FOUND',
        `"${name.slice(0, 64)}" is not a valid model name (letters, digits, ".", "_", "-")`,
      );
    }
    const dir = path.join(this.root, name);
    if (path.dirname(dir) !== path.resolve(this.root) && path.dirname(dir) !== this.root) {
      throw new SkiffError('SKIFF_MODEL_NOT_FOUND', `no model named "${name}" in the repository`);
    }
    // What the messages show: these may be answered over the API, which must not reveal the server's paths.
    const shown = (...parts: string[]): string => [name, ...parts].join('/');
    const info = await statIfPresent(
      dir,
      this.check('SKIFF_MODEL_NOT_FOUND', 'model folder', signal, shown()),
    );
    if (info?.isDirectory() !== true) {
      throw new SkiffError('SKIFF_MODEL_NOT_FOUND', `no model named "${name}" in the repository`);
    }
    const configPath = path.join(dir, 'model.json');
    const configCheck = this.check('SKIFF_CONFIG_UNREADABLE', 'model config', signal, shown('model.json'));
    const config: ModelConfigFile =
      (await statIfPresent(configPath, configCheck)) === undefined
        ? {}
        : await readModelConfig(configPath, configCheck);
    const versions: { version: string; modelPath: string }[] = [];
    const modelCheck = (...parts: string[]): FileCheck =>
      this.check('SKIFF_MODEL_FILE_MISSING', 'model file', signal, shown(...parts));
    const modelFile = async (...parts: string[]): Promise<string | undefined> => {
      const file = path.join(dir, ...parts);
      const found = await statIfPresent(file, modelCheck(...parts));
      if (found === undefined) return undefined;
      // Handed to ONNX Runtime, which would block opening a FIFO for ever.
      requireRegularFile(found, file, modelCheck(...parts));
      return file;
    };
    const unversioned = await modelFile('model.onnx');
    if (unversioned !== undefined) versions.push({ version: '1', modelPath: unversioned });
    const entries = await listDirectory(
      dir,
      this.check('SKIFF_MODEL_FILE_MISSING', 'model folder', signal, shown()),
    );
    for (const entry of entries) {
      if (!entry.isDirectory() || !/^\d+$/.test(entry.name)) continue;
      if (entry.name === '1' && unversioned !== undefined) continue;
      const versioned = await modelFile(entry.name, 'model.onnx');
      if (versioned !== undefined) versions.push({ version: entry.name, modelPath: versioned });
    }
    if (versions.length === 0) {
      throw new SkiffError(
        'SKIFF_MODEL_FILE_MISSING',
        `model "${name}" has no model.onnx (expected ${name}/model.onnx or ${name}/<version>/model.onnx)`,
      );
    }
    const labels = await resolveLabels({
      configured: config.labels,
      baseDir: dir,
      bundled: path.join(dir, 'labels.txt'),
      confined: true,
      check: (file) =>
        this.check('SKIFF_LABELS_INVALID', 'labels file', signal, shown(path.relative(dir, file))),
    });
    return { name, config, labels, versions };
  }

  private check(code: ErrorCode, what: string, signal: AbortSignal | undefined, shownAs?: string): FileCheck {
    return { code, what, timeoutMs: this.options.fileTimeoutMs, signal, shownAs };
  }
}
