import type { LoadedModel } from '../model/runtime.js';
import type { Tensor, TensorInfo } from '../tensor/tensor.js';
import type { Deferred } from './deferred.js';
import { deferred } from './deferred.js';

export interface FakeCall {
  readonly inputs: Readonly<Record<string, Tensor>>;
  readonly outputNames: readonly string[] | undefined;
}

/** What the fake does with one `infer` call. */
export type Respond = (call: FakeCall) => Promise<Record<string, Tensor>>;

/** Returns its inputs as outputs. */
export const echo: Respond = (call) => Promise.resolve({ ...call.inputs });

/** Always answers with the same outputs. */
export function answer(outputs: Record<string, Tensor>): Respond {
  return () => Promise.resolve(outputs);
}

/** Always fails with `error`. */
export function fail(error: unknown): Respond {
  return () => Promise.reject(error instanceof Error ? error : new Error(String(error)));
}

/** Answers as `respond` does, `ms` after each call, by timer: a model exactly as slow as the test says. */
export function after(ms: number, respond: Respond): Respond {
  return (call) => new Promise((resolve) => setTimeout(resolve, ms)).then(() => respond(call));
}

/** Holds every call until the test finishes or fails it by position: `held[i]`. */
export class Held {
  readonly held: { readonly call: FakeCall; readonly result: Deferred<Record<string, Tensor>> }[] = [];

  readonly respond: Respond = (call) => {
    const result = deferred<Record<string, Tensor>>();
    this.held.push({ call, result });
    return result.promise;
  };

  private readonly settled = new Set<number>();

  /** Calls held and not yet finished or failed. */
  get open(): number {
    return this.held.length - this.settled.size;
  }

  finish(index: number, outputs: Record<string, Tensor>): void {
    this.settled.add(index);
    this.at(index).result.resolve(outputs);
  }

  fail(index: number, error: unknown): void {
    this.settled.add(index);
    this.at(index).result.reject(error);
  }

  /** Finishes every call still held with the same outputs. */
  finishOpen(outputs: Record<string, Tensor>): void {
    for (let i = 0; i < this.held.length; i++) if (!this.settled.has(i)) this.finish(i, outputs);
  }

  private at(index: number): { readonly call: FakeCall; readonly result: Deferred<Record<string, Tensor>> } {
    const entry = this.held[index];
    if (entry === undefined) throw new Error(`no held call #${index} (${this.held.length} held)`);
    return entry;
  }
}

/** A LoadedModel whose behaviour the test picks; it records calls, concurrency and close(). */
export class FakeLoadedModel implements LoadedModel {
  readonly calls: FakeCall[] = [];
  active = 0;
  maxActive = 0;
  closeCount = 0;
  /** What the fake claims about having warmed its instances while loading. */
  warmedUp = false;
  /** Off for long load tests: every recorded call keeps its input tensors alive, which would read as a leak. */
  recordCalls = true;

  constructor(
    readonly inputs: readonly TensorInfo[],
    readonly outputs: readonly TensorInfo[],
    public respond: Respond = echo,
  ) {}

  async infer(
    inputs: Readonly<Record<string, Tensor>>,
    outputNames?: readonly string[],
  ): Promise<Record<string, Tensor>> {
    const call: FakeCall = { inputs, outputNames };
    if (this.recordCalls) this.calls.push(call);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      return await this.respond(call);
    } finally {
      this.active--;
    }
  }

  close(): Promise<void> {
    this.closeCount++;
    return Promise.resolve();
  }
}
