import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SkiffError } from '../core/errors.js';
import type { FileCheck } from '../host/regular-file.js';
import { requireRegularFile, statIfPresent } from '../host/regular-file.js';
import type { ModelConfigFile } from '../core/model/model-config.js';
import { cachedFilePath } from './cached-file-path.js';
import { download } from './download.js';
import { normalizeSha256 } from './normalize-sha256.js';
import { ZOO_COMMIT, findZooEntry, zooFileUrl, zooNames } from './zoo.js';
import type { ZooEntry } from './zoo.js';
import { DEFAULT_MODEL, embeddedModelNames, findEmbeddedModel } from './embedded-models.js';

export interface ResolvedModelSource {
  /** Absolute path of the .onnx file to load. */
  readonly modelPath: string;
  /** Labels that came with the source (zoo models); otherwise labels come from flags or model.json. */
  readonly labelsPath?: string | undefined;
  /** Preprocessing and output settings that came with the source (zoo models). */
  readonly config?: ModelConfigFile | undefined;
  /** A `model.json` found next to a local model file. */
  readonly configPath?: string | undefined;
  /** The name to serve the model under unless one is configured. */
  readonly defaultName: string;
  readonly origin: 'file' | 'url' | 'zoo' | 'embedded';
}

export interface ResolveModelSourceOptions {
  readonly cacheDir: string;
  /** Expected sha256 of the model file: verified for URLs and local files, must equal the pin for zoo names. */
  readonly sha256?: string | undefined;
  /** Replaces `https://github.com/onnx/models/raw/<commit>/` for zoo downloads (a mirror). */
  readonly zooBaseUrl?: string | undefined;
  readonly progress?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Longest a stat() of a local model file may take (a hung network mount never answers); unset: no limit. */
  readonly fileTimeoutMs?: number | undefined;
}

/**
 * Turns the value of `--model` into a model file on disk: an http(s) URL is downloaded into the cache, the
 * name of a model shipped with Skiff is its folder, an exact zoo name fetches the pinned model and labels,
 * anything else is a local file or a directory holding `model.onnx`. Called once by `skiff serve` before the model is loaded. Throws SkiffError
 * SKIFF_MODEL_FILE_MISSING (no such local file; lists the zoo names when the value looks like one),
 * SKIFF_DOWNLOAD_FAILED, SKIFF_CHECKSUM_MISMATCH or SKIFF_CONFIG_INVALID (malformed URL or sha256).
 */
export async function resolveModelSource(
  spec: string,
  options: ResolveModelSourceOptions,
): Promise<ResolvedModelSource> {
  if (/^https?:\/\//i.test(spec)) return resolveUrl(spec, options);
  const embedded = findEmbeddedModel(spec);
  if (embedded !== undefined)
    return { ...(await resolveLocal(embedded.dir, options)), defaultName: embedded.name, origin: 'embedded' };
  const entry = findZooEntry(spec);
  if (entry !== undefined) return resolveZoo(entry, options);
  return resolveLocal(spec, options);
}

/**
 * Where `resolveModelSource` will find the model file, when it can be known now without any transfer: a local
 * file, a directory's `model.onnx`, or a zoo model already in the cache. Undefined otherwise (URLs, zoo models
 * not yet fetched, anything missing). A guess for preloading only: nothing is verified, and the caller must
 * still resolve the model properly. Throws nothing.
 */
export function modelPathIfAtHand(
  spec: string,
  options: Pick<ResolveModelSourceOptions, 'cacheDir'>,
): string | undefined {
  if (/^https?:\/\//i.test(spec) || spec.trim() === '') return undefined;
  const embedded = findEmbeddedModel(spec);
  if (embedded !== undefined) return path.join(embedded.dir, 'model.onnx');
  const entry = findZooEntry(spec);
  const candidate =
    entry !== undefined
      ? cachedFilePath(zooFileUrl(entry.model), {
          cacheDir: options.cacheDir,
          sha256: entry.model.sha256,
          fileName: path.posix.basename(entry.model.path),
        })
      : path.resolve(spec);
  try {
    const info = statSync(candidate);
    if (info.isFile()) return candidate;
    if (entry === undefined && info.isDirectory() && statSync(path.join(candidate, 'model.onnx')).isFile())
      return path.join(candidate, 'model.onnx');
  } catch {
    // Not there (yet): nothing to preload.
  }
  return undefined;
}

/**
 * The cache root: `SKIFF_CACHE_DIR`, else `$XDG_CACHE_HOME/skiff`, else `~/.cache/skiff`. Called by the
 * config layer with the process environment; throws nothing.
 */
export function resolveCacheDir(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string = env.HOME !== undefined && env.HOME !== '' ? env.HOME : os.homedir(),
): string {
  const explicit = env.SKIFF_CACHE_DIR;
  if (explicit !== undefined && explicit !== '') return path.resolve(explicit);
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'skiff');
  return path.join(homeDir, '.cache', 'skiff');
}

async function resolveUrl(url: string, options: ResolveModelSourceOptions): Promise<ResolvedModelSource> {
  const modelPath = await download(url, {
    cacheDir: options.cacheDir,
    sha256: options.sha256,
    progress: options.progress,
    signal: options.signal,
  });
  return { modelPath, defaultName: urlBaseName(url), origin: 'url' };
}

async function resolveZoo(entry: ZooEntry, options: ResolveModelSourceOptions): Promise<ResolvedModelSource> {
  if (options.sha256 !== undefined && normalizeSha256(options.sha256) !== entry.model.sha256) {
    throw new SkiffError(
      'SKIFF_CHECKSUM_MISMATCH',
      `zoo model ${entry.name} is pinned to sha256 ${entry.model.sha256}, but sha256 ${options.sha256} was requested; ` +
        'drop the sha256 option or pass the model as a URL or local path',
    );
  }
  try {
    // The labels first: they are small, so a broken mirror shows up before a 100 MB transfer.
    const labelsPath = await download(zooFileUrl(entry.labels, options.zooBaseUrl), {
      cacheDir: options.cacheDir,
      sha256: entry.labels.sha256,
      expectedBytes: entry.labels.bytes,
      fileName: path.posix.basename(entry.labels.path),
      signal: options.signal,
    });
    const modelPath = await download(zooFileUrl(entry.model, options.zooBaseUrl), {
      cacheDir: options.cacheDir,
      sha256: entry.model.sha256,
      expectedBytes: entry.model.bytes,
      fileName: path.posix.basename(entry.model.path),
      progress: options.progress,
      signal: options.signal,
    });
    return { modelPath, labelsPath, config: entry.config, defaultName: entry.name, origin: 'zoo' };
  } catch (error) {
    throw withOfflineWays(error, entry);
  }
}

/** A zoo download that failed for want of a network says what works without one. */
function withOfflineWays(error: unknown, entry: ZooEntry): unknown {
  if (!(error instanceof SkiffError) || error.code !== 'SKIFF_DOWNLOAD_FAILED') return error;
  const file = path.posix.basename(entry.model.path);
  return new SkiffError(
    'SKIFF_DOWNLOAD_FAILED',
    `${error.message} Without access to the zoo: --zoo-base-url <a mirror of onnx/models at ${ZOO_COMMIT}>; ` +
      `or a copy of the file: --model ./${file} --model-sha256 ${entry.model.sha256}; ` +
      `or leave --model out to serve ${DEFAULT_MODEL}, which ships with Skiff.`,
    { cause: error.cause },
  );
}

async function resolveLocal(spec: string, options: ResolveModelSourceOptions): Promise<ResolvedModelSource> {
  const given = path.resolve(spec);
  const check = (file: string): FileCheck => ({
    code: 'SKIFF_MODEL_FILE_MISSING',
    what: file === given ? '' : 'model file',
    timeoutMs: options.fileTimeoutMs,
    signal: options.signal,
  });
  const info = spec.trim() === '' ? undefined : await statIfPresent(given, check(given));
  if (info === undefined) throw missingModel(spec, given);

  let modelPath = given;
  if (info.isDirectory()) {
    modelPath = path.join(given, 'model.onnx');
    const inside = await statIfPresent(modelPath, check(modelPath));
    if (inside === undefined) {
      throw new SkiffError(
        'SKIFF_MODEL_FILE_MISSING',
        `directory ${given} has no model.onnx; put the model there or pass the .onnx file itself`,
      );
    }
    requireRegularFile(inside, modelPath, check(modelPath));
  } else {
    requireRegularFile(info, given, check(given));
  }

  if (options.sha256 !== undefined) {
    const expected = normalizeSha256(options.sha256);
    const actual = await sha256OfFile(modelPath);
    if (actual !== expected) {
      throw new SkiffError(
        'SKIFF_CHECKSUM_MISMATCH',
        `${modelPath} does not have the expected content: expected sha256 ${expected}, got ${actual}`,
      );
    }
  }

  const configPath = path.join(path.dirname(modelPath), 'model.json');
  // Anything there but a regular file is reported when it is read, rather than silently ignored.
  const hasConfig = (await statIfPresent(configPath, check(configPath))) !== undefined;
  return {
    modelPath,
    ...(hasConfig ? { configPath } : {}),
    defaultName: localBaseName(modelPath),
    origin: 'file',
  };
}

function missingModel(spec: string, absolute: string): SkiffError {
  const what =
    spec.trim() === '' ? 'no model was given' : `there is no model file or directory at ${absolute}`;
  // A bare word without a path separator or .onnx suffix was most likely meant as a zoo name.
  const looksLikeZooName =
    spec.trim() !== '' && !spec.includes('/') && !spec.includes(path.sep) && !/\.onnx$/i.test(spec);
  const zooHint = looksLikeZooName
    ? ` and "${spec}" is not a model name Skiff knows (shipped: ${embeddedModelNames().join(', ')}; zoo: ${zooNames().join(', ')})`
    : '';
  return new SkiffError(
    'SKIFF_MODEL_FILE_MISSING',
    `${what}${zooHint}. Pass an .onnx file, a directory holding model.onnx, an http(s) URL or a model name.`,
  );
}

/** A directory that holds `model.onnx` names the model; any other file is named by its own base name. */
function localBaseName(modelPath: string): string {
  const file = path.basename(modelPath);
  if (file === 'model.onnx') return path.basename(path.dirname(modelPath)) || 'model';
  return file.replace(/\.onnx$/i, '') || 'model';
}

function urlBaseName(url: string): string {
  const segment = new URL(url).pathname.split('/').pop() ?? '';
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // Keep the raw segment when it is not valid percent-encoding.
  }
  const extension = path.posix.extname(decoded);
  return (extension === '' ? decoded : decoded.slice(0, -extension.length)) || 'model';
}

async function sha256OfFile(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
