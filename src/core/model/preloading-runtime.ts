import type { LoadedModel, Runtime, RuntimeLoadOptions } from './runtime.js';
import { SkiffError } from '../errors.js';

interface Preload {
  readonly loading: Promise<LoadedModel>;
  readonly abort: AbortController;
}

/**
 * A Runtime that can start loading a model before anyone asks for it. `skiff serve` preloads the model it
 * will serve while the HTTP and gRPC stacks are still being imported, so session creation (in worker threads)
 * overlaps module loading (on the main thread) instead of following it. `load` hands out the preloaded model
 * when the path and options match, once; anything else goes to the wrapped runtime.
 */
export class PreloadingRuntime implements Runtime {
  readonly name: string;
  private readonly pending = new Map<string, Preload>();

  constructor(private readonly inner: Runtime) {
    this.name = inner.name;
  }

  preload(modelPath: string, options: RuntimeLoadOptions): void {
    const key = keyOf(modelPath, options);
    if (this.pending.has(key)) return;
    const abort = new AbortController();
    const loading = this.inner.load(modelPath, options, abort.signal);
    // Its failure is reported to whoever loads it; a preload nobody claims must not crash the process.
    loading.catch(() => undefined);
    this.pending.set(key, { loading, abort });
  }

  load(modelPath: string, options: RuntimeLoadOptions, signal?: AbortSignal): Promise<LoadedModel> {
    const key = keyOf(modelPath, options);
    const preloaded = this.pending.get(key);
    if (preloaded === undefined) return this.inner.load(modelPath, options, signal);
    this.pending.delete(key);
    // The preload started before there was a signal: the claimer's abort reaches it from now on.
    const forward = (): void => preloaded.abort.abort(signal?.reason);
    if (signal?.aborted === true) forward();
    else signal?.addEventListener('abort', forward, { once: true });
    return preloaded.loading;
  }

  /**
   * Stops the preloads nobody claimed (start-up failed, or the model turned out different) and closes those
   * that had finished. A preload still loading is aborted rather than waited for: it may never finish.
   */
  async dispose(): Promise<void> {
    const unclaimed = [...this.pending.values()];
    this.pending.clear();
    await Promise.all(
      unclaimed.map(async ({ loading, abort }) => {
        abort.abort(new SkiffError('SKIFF_SHUTTING_DOWN', 'the preloaded model was not needed'));
        try {
          await (await loading).close();
        } catch {
          // A preload that failed or was aborted has nothing to close.
        }
      }),
    );
  }
}

function keyOf(modelPath: string, options: RuntimeLoadOptions): string {
  return JSON.stringify([modelPath, options.workers, options.threadsPerWorker]);
}
