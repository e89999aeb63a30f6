import type { LoadedModel, Runtime, RuntimeLoadOptions } from './runtime.js';

/**
 * A Runtime that can start loading a model before anyone asks for it. `skiff serve` preloads the model it
 * will serve while the HTTP and gRPC stacks are still being imported, so session creation (in worker threads)
 * overlaps module loading (on the main thread) instead of following it. `load` hands out the preloaded model
 * when the path and options match, once; anything else goes to the wrapped runtime.
 */
export class PreloadingRuntime implements Runtime {
  readonly name: string;
  private readonly pending = new Map<string, Promise<LoadedModel>>();

  constructor(private readonly inner: Runtime) {
    this.name = inner.name;
  }

  preload(modelPath: string, options: RuntimeLoadOptions): void {
    const key = keyOf(modelPath, options);
    if (this.pending.has(key)) return;
    const loading = this.inner.load(modelPath, options);
    // Its failure is reported to whoever loads it; a preload nobody claims must not crash the process.
    loading.catch(() => undefined);
    this.pending.set(key, loading);
  }

  load(modelPath: string, options: RuntimeLoadOptions): Promise<LoadedModel> {
    const key = keyOf(modelPath, options);
    const preloaded = this.pending.get(key);
    if (preloaded === undefined) return this.inner.load(modelPath, options);
    this.pending.delete(key);
    return preloaded;
  }

  /** Closes the preloaded models nobody claimed (start-up failed, or the model turned out different). */
  async dispose(): Promise<void> {
    const unclaimed = [...this.pending.values()];
    this.pending.clear();
    await Promise.all(
      unclaimed.map(async (loading) => {
        try {
          await (await loading).close();
        } catch {
          // A preload that failed has nothing to close.
        }
      }),
    );
  }
}

function keyOf(modelPath: string, options: RuntimeLoadOptions): string {
  return JSON.stringify([modelPath, options.workers, options.threadsPerWorker]);
}
