import path from 'node:path';
import type { Labels } from '../core/model/labels.js';
import type { FileCheck } from '../host/regular-file.js';
import { SkiffError } from '../core/errors.js';
import { labelsFromList, parseLabels } from '../core/model/labels.js';
import { readRegularFile, statIfPresent } from '../host/regular-file.js';

/** Where a model's labels may come from; `resolveLabels` applies the one rule to them. */
export interface LabelSources {
  /** `--labels`: a file, which wins over anything model.json says. */
  readonly flag?: string | undefined;
  /** model.json's `labels`: the labels themselves, or a file relative to `baseDir`. */
  readonly configured: string | readonly string[] | undefined;
  readonly baseDir: string;
  /** A file that came with the model (a zoo download, a repository folder's labels.txt): read if it is there. */
  readonly bundled?: string | undefined;
  /**
   * A configured file must lie inside `baseDir`: a repository's models are loaded through the API, and its
   * model.json must not be a way to read the rest of the server's disk.
   */
  readonly confined?: boolean;
  /** How each file is checked and shown in messages. */
  readonly check: (file: string) => FileCheck;
}

/**
 * A model's labels, the one rule for `--model` and repository models alike: `--labels`, else model.json's
 * `labels` (a list, or a file that must exist), else the labels that came with the model, else none. Throws
 * SKIFF_LABELS_INVALID (a file missing, unreadable, not regular or malformed; one outside a confined folder).
 */
export async function resolveLabels(sources: LabelSources): Promise<Labels | undefined> {
  if (sources.flag !== undefined) return readLabels(sources.flag, sources.check(sources.flag));
  const { configured } = sources;
  if (Array.isArray(configured)) return labelsFromList(configured);
  if (typeof configured === 'string') {
    const file = path.resolve(sources.baseDir, configured);
    if (sources.confined === true && path.relative(sources.baseDir, file).startsWith('..'))
      throw new SkiffError('SKIFF_LABELS_INVALID', `labels file ${configured} is outside the model's folder`);
    return readLabels(file, sources.check(file));
  }
  const bundled = sources.bundled;
  if (bundled === undefined || (await statIfPresent(bundled, sources.check(bundled))) === undefined)
    return undefined;
  return readLabels(bundled, sources.check(bundled));
}

async function readLabels(file: string, check: FileCheck): Promise<Labels> {
  return parseLabels((await readRegularFile(file, check)).toString('utf8'), file);
}
