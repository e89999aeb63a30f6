import type { LoadedModel, Runtime, RuntimeLoadOptions } from '../model/runtime.js';

/**
 * A Runtime whose `load` does what the test says (return a fake model, wait, or fail) and records its calls.
 * Like a runtime stuck in native code, it ignores the abort signal: `signals` lets a test see it was sent.
 */
export class FakeRuntime implements Runtime {
  readonly name = 'fake';
  readonly loads: { readonly modelPath: string; readonly options: RuntimeLoadOptions }[] = [];
  readonly signals: (AbortSignal | undefined)[] = [];

  constructor(private readonly make: () => Promise<LoadedModel>) {}

  load(modelPath: string, options: RuntimeLoadOptions, signal?: AbortSignal): Promise<LoadedModel> {
    this.loads.push({ modelPath, options });
    this.signals.push(signal);
    return this.make();
  }
}
