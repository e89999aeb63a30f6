import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/**
 * Where ONNX Runtime's fully optimized graph of one model file is kept between starts. Creating a session
 * on ResNet50 spends about 40% of its 0.4 s in graph optimization; a session on the saved optimized graph
 * (with optimization off) skips that and runs the same kernels, bit for bit. The weights are saved in a
 * file beside the graph, which ORT loads in a fraction of the time it takes to parse them out of the graph.
 *
 * The saved graph holds layout transforms chosen for this CPU's vector width (NCHWc blocks), so the key
 * covers the CPU as well as the model file and the ORT version: a copy made elsewhere is never used here.
 * The model file is identified by path, size, inode and times rather than hashed: hashing 100 MB would
 * cost more than the cache saves.
 */
export interface OptimizedGraphLocation {
  /** The file the optimized graph is read from, or written to when it is missing. */
  readonly file: string;
  /** Files in the same folder starting with this belong to older versions of the same model file. */
  readonly siblingPrefix: string;
}

/**
 * Whether a saved graph is there to start from. Only ever a regular file: ONNX Runtime opening anything else
 * (a FIFO) could block for ever.
 */
export function isSavedGraph(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The folder of optimized graphs inside Skiff's cache folder. */
export function optimizedGraphDir(cacheDir: string): string {
  return path.join(cacheDir, 'optimized-graphs');
}

/** Bumped when what is saved changes, so graphs saved the old way are replaced once (2: weights apart). */
const CACHE_FORMAT = 2;

/** Models above this are left alone: ORT writes a graph over 2 GiB only with external data. */
export const MAX_CACHED_MODEL_BYTES = 1024 ** 3;

let flagsCache: readonly string[] | undefined;

/** The CPU's feature flags from /proc/cpuinfo (x86 "flags", Arm "Features"); empty where there is none. */
export function cpuFlags(): readonly string[] {
  if (flagsCache === undefined) {
    try {
      const line = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
      flagsCache = line.split(' ').filter((flag) => flag !== '');
    } catch {
      // Not Linux: the model name and architecture have to do.
      flagsCache = [];
    }
  }
  return flagsCache;
}

let cpuKey: string | undefined;

/** The CPU as far as ORT's kernel choice goes: architecture, model name and feature flags. */
export function cpuSignature(): string {
  cpuKey ??= [os.arch(), os.cpus()[0]?.model ?? 'unknown', cpuFlags().join(' ')].join('|');
  return cpuKey;
}

let ortVersionCache: string | undefined;

function ortVersion(): string {
  if (ortVersionCache === undefined) {
    const require = createRequire(import.meta.url);
    const pkg = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as {
      version: string;
    };
    ortVersionCache = pkg.version;
  }
  return ortVersionCache;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 20);
}

/**
 * The cache location for `modelPath` under `dir` (created if need be), or a reason it cannot be cached:
 * the model is too large, or the folder cannot be made.
 */
export function optimizedGraphLocation(
  modelPath: string,
  dir: string,
): { readonly location: OptimizedGraphLocation } | { readonly reason: string } {
  let real: string;
  let stat: ReturnType<typeof statSync>;
  try {
    real = realpathSync(modelPath);
    stat = statSync(real);
  } catch (error) {
    return { reason: `the model file cannot be read: ${error instanceof Error ? error.message : ''}` };
  }
  if (stat.size > MAX_CACHED_MODEL_BYTES) return { reason: 'the model is larger than 1 GiB' };
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    return { reason: `${dir} cannot be created: ${error instanceof Error ? error.message : ''}` };
  }
  const siblingPrefix = `${digest(real)}-`;
  const key = digest(
    JSON.stringify([
      real,
      stat.size,
      stat.ino,
      stat.mtimeMs,
      stat.ctimeMs,
      ortVersion(),
      cpuSignature(),
      CACHE_FORMAT,
    ]),
  );
  return { location: { file: path.join(dir, `${siblingPrefix}${key}.onnx`), siblingPrefix } };
}
