import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RepositoryEntry, RepositorySource } from '../core/registry/model-repository.js';
import type { Labels } from '../core/model/labels.js';
import { SkiffError } from '../core/errors.js';
import { labelsFromList, parseLabels } from '../core/model/labels.js';
import { readModelConfig } from '../config/model-config-file.js';

/** Model names: no path separators, no leading dot, so a name can never leave the repository. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A model repository on disk, Triton's layout: `<dir>/<name>/model.onnx` (served as version 1) or
 * `<dir>/<name>/<version>/model.onnx`, with `<dir>/<name>/model.json` and optionally `labels.txt`.
 */
export class FileModelRepository implements RepositorySource {
  constructor(private readonly root: string) {}

  async listNames(): Promise<string[]> {
    let names: string[];
    try {
      names = readdirSync(this.root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && MODEL_NAME.test(d.name))
        .map((d) => d.name);
    } catch (error) {
      throw new SkiffError('SKIFF_MODEL_FILE_MISSING', `cannot read the model repository ${this.root}`, {
        cause: error,
      });
    }
    return names.sort();
  }

  async read(name: string): Promise<RepositoryEntry> {
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
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new SkiffError('SKIFF_MODEL_NOT_FOUND', `no model named "${name}" in the repository`);
    }
    const configPath = path.join(dir, 'model.json');
    const config = existsSync(configPath) ? readModelConfig(configPath) : {};
    const versions: { version: string; modelPath: string }[] = [];
    if (existsSync(path.join(dir, 'model.onnx')))
      versions.push({ version: '1', modelPath: path.join(dir, 'model.onnx') });
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (
        entry.isDirectory() &&
        /^\d+$/.test(entry.name) &&
        existsSync(path.join(dir, entry.name, 'model.onnx'))
      ) {
        if (entry.name === '1' && versions.some((v) => v.version === '1')) continue;
        versions.push({ version: entry.name, modelPath: path.join(dir, entry.name, 'model.onnx') });
      }
    }
    if (versions.length === 0) {
      throw new SkiffError(
        'SKIFF_MODEL_FILE_MISSING',
        `model "${name}" has no model.onnx (expected ${name}/model.onnx or ${name}/<version>/model.onnx)`,
      );
    }
    return { name, config, labels: await this.labels(dir, config.labels), versions };
  }

  private async labels(
    dir: string,
    configured: string | readonly string[] | undefined,
  ): Promise<Labels | undefined> {
    if (Array.isArray(configured)) return labelsFromList(configured);
    const file =
      typeof configured === 'string' ? path.resolve(dir, configured) : path.join(dir, 'labels.txt');
    if (typeof configured === 'string' && path.relative(dir, file).startsWith('..')) {
      throw new SkiffError('SKIFF_LABELS_INVALID', `labels file ${configured} is outside the model's folder`);
    }
    if (!existsSync(file)) {
      if (typeof configured === 'string')
        throw new SkiffError('SKIFF_LABELS_INVALID', `labels file ${file} does not exist`);
      return undefined;
    }
    return parseLabels(await readFile(file, 'utf8'), file);
  }
}
