// Runs in the inference worker: the ONNX Runtime session on the model, through the optimized-graph cache.
import { linkSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import './without-float16-array.js';
import ort from 'onnxruntime-node';
import type { OptimizedGraphOutcome, WorkerInit } from './worker-messages.js';
import { isSavedGraph } from './optimized-graph-cache.js';

const NO_SPINNING = { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } };

function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    // Spinning threads would burn the cores the other workers and the decoder need.
    extra: { session: NO_SPINNING },
  };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface CreatedSession {
  readonly session: ort.InferenceSession;
  readonly optimizedGraph: OptimizedGraphOutcome;
}

/**
 * A session on the model, through the optimized-graph cache when there is one: the saved graph is loaded
 * with optimization off; without it the model is optimized and the result saved for the next start. A
 * cache file that will not load (torn, or from another ORT build) is replaced, never trusted.
 */
export async function createSession(init: WorkerInit): Promise<CreatedSession> {
  const options = sessionOptions(init.threads);
  const full = { ...options, graphOptimizationLevel: 'all' } as const;
  const cache = init.optimizedGraph;
  const uncached = async (): Promise<CreatedSession> => ({
    session: await ort.InferenceSession.create(init.modelPath, full),
    optimizedGraph: { outcome: 'not cached' },
  });
  if (cache === undefined) return uncached();
  if (isSavedGraph(cache.file)) {
    try {
      const session = await ort.InferenceSession.create(cache.file, {
        ...options,
        graphOptimizationLevel: 'disabled',
      });
      return { session, optimizedGraph: { outcome: 'read' } };
    } catch {
      rmSync(cache.file, { force: true });
    }
  }
  const saved = await withWriteLock(cache, () => createAndSave(init.modelPath, cache, full));
  return saved ?? uncached();
}

/**
 * Optimizes the model and saves its graph, then lets the session go: for a process that exists only to do
 * this (optimize-process.ts), so that the memory optimizing takes leaves with it. `undefined`: another writer
 * holds the lock.
 */
export async function saveOptimizedGraph(init: WorkerInit): Promise<OptimizedGraphOutcome | undefined> {
  const cache = init.optimizedGraph;
  if (cache === undefined) return { outcome: 'not cached' };
  const full = { ...sessionOptions(init.threads), graphOptimizationLevel: 'all' } as const;
  return withWriteLock(cache, async () => {
    const created = await createAndSave(init.modelPath, cache, full);
    await created.session.release();
    return created.optimizedGraph;
  });
}

/**
 * One writer at a time (the other workers of the pool, another server on the same cache): a second copy
 * would only cost disk, and a Kubernetes emptyDir over its size limit gets the pod evicted.
 */
async function withWriteLock<T>(
  cache: NonNullable<WorkerInit['optimizedGraph']>,
  write: () => Promise<T>,
): Promise<T | undefined> {
  const lock = claim(`${cache.file}.writing`);
  if (lock === undefined) return undefined;
  try {
    return await write();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** A writer older than this died mid-write (ResNet50's graph takes well under a second to write). */
const STALE_LOCK_MS = 10 * 60_000;

/**
 * Creates `file` if nobody has; a file left by a writer that died long ago is taken over. The lock appears
 * whole, with the writer's pid inside, or not at all: it is written under a name of this thread's and linked
 * into place (a link fails where the lock exists). Created and then written, a writer killed in between left an
 * empty lock that a parent killing its optimizing process could not tell for that one's.
 */
function claim(file: string): string | undefined {
  const pending = `${file}.${String(process.pid)}-${String(threadId)}.tmp`;
  try {
    writeFileSync(pending, String(process.pid));
  } catch {
    return undefined;
  }
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(pending, file);
        return file;
      } catch (error) {
        // A file system without hard links: create the lock, then write it, as the only way left.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return claimByCreating(file);
        try {
          if (Date.now() - statSync(file).mtimeMs < STALE_LOCK_MS) return undefined;
          rmSync(file, { force: true });
        } catch {
          return undefined;
        }
      }
    }
    return undefined;
  } finally {
    rmSync(pending, { force: true });
  }
}

function claimByCreating(file: string): string | undefined {
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return file;
  } catch {
    return undefined;
  }
}

async function createAndSave(
  modelPath: string,
  cache: NonNullable<WorkerInit['optimizedGraph']>,
  full: ort.InferenceSession.SessionOptions,
): Promise<CreatedSession> {
  // The graph is written under a temporary name and renamed into place, so nobody ever reads a half-written
  // graph. Its weights go to a file of their own, which ORT reads back far faster than weights inside the
  // protobuf (ResNet50: a session in ~50 ms instead of ~300 ms). That file's name is new for every write:
  // another server may be running on the previous one, and writing over a file in use would corrupt it.
  // ORT warns that the graph is CPU-specific (logged below error level): the cache key already says so.
  const writer = `${String(process.pid)}-${String(threadId)}-${randomBytes(4).toString('hex')}`;
  const temporary = `${cache.file}.${writer}.tmp`;
  const weights = `${path.basename(cache.file, '.onnx')}.${writer}${WEIGHTS_SUFFIX}`;
  const dir = path.dirname(cache.file);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelPath, {
      ...full,
      optimizedModelFilePath: temporary,
      logSeverityLevel: 3,
      extra: {
        session: {
          ...NO_SPINNING,
          optimized_model_external_initializers_file_name: weights,
          optimized_model_external_initializers_min_size_in_bytes: '1024',
        },
      },
    });
  } catch (error) {
    rmSync(temporary, { force: true });
    rmSync(path.join(dir, weights), { force: true });
    // Perhaps only the saving failed: a plain session decides whether the model itself loads.
    const session = await ort.InferenceSession.create(modelPath, full);
    return { session, optimizedGraph: { outcome: 'not cached', detail: errorMessage(error) } };
  }
  try {
    renameSync(temporary, cache.file);
    removeOthers(cache.file, weights, cache.siblingPrefix);
  } catch (error) {
    rmSync(temporary, { force: true });
    return { session, optimizedGraph: { outcome: 'not cached', detail: errorMessage(error) } };
  }
  return { session, optimizedGraph: { outcome: 'written' } };
}

const WEIGHTS_SUFFIX = '.weights';

/**
 * Graphs saved for earlier versions of the same model file are dead weight (about its size each), as are
 * weights files no graph names any more (left by a writer that died, or by a graph found torn).
 */
function removeOthers(file: string, weights: string, prefix: string): void {
  const dir = path.dirname(file);
  for (const name of readdirSync(dir)) {
    const ours = name === path.basename(file) || name === weights;
    const finished = name.endsWith('.onnx') || name.endsWith(WEIGHTS_SUFFIX);
    if (name.startsWith(prefix) && finished && !ours) rmSync(path.join(dir, name), { force: true });
  }
}
