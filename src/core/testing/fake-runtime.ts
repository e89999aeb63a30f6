import type { LoadedModel, Runtime, RuntimeLoadOptions } from '../model/runtime.js';

/** A Runtime whose `load` does what the test says (return a fake model, wait, or fail) and records its calls. */
export class FakeRuntime implements Runtime {
  readonly name = 'fake';
  readonly loads: { readonly modelPath: string; readonly options: RuntimeLoadOptions }[] = [];

  constructor(private readonly make: () => Promise<LoadedModel>) {}

  load(modelPath: string, options: RuntimeLoadOptions): Promise<LoadedModel> {
    this.loads.push({ modelPath, options });
    return this.make();
  }
}
