import type { InferenceObserver, InferenceReport } from '../inference-observer.js';

/** A count and a cumulative duration (Triton's StatisticDuration); nanoseconds as bigint, since they add up. */
export interface Duration {
  readonly count: number;
  readonly ns: bigint;
}

export interface BatchStatistics {
  /** Rows of one model execution. */
  readonly batchSize: number;
  readonly computeInput: Duration;
  readonly computeInfer: Duration;
  readonly computeOutput: Duration;
}

/** What one model version has done since the server started (Triton's ModelStatistics, as Skiff measures it). */
export interface ModelStatistics {
  readonly name: string;
  readonly version: string;
  /** Milliseconds since the epoch of the last request that reached the model; 0 for none. */
  readonly lastInferenceMs: number;
  /** Rows inferred successfully (a request of batch 8 counts 8). */
  readonly inferenceCount: number;
  /** Successful model executions (a dynamic batch of several requests counts once). */
  readonly executionCount: number;
  readonly success: Duration;
  readonly fail: Duration;
  readonly queue: Duration;
  readonly computeInput: Duration;
  readonly computeInfer: Duration;
  readonly computeOutput: Duration;
  /** One entry per execution batch size seen, smallest first. */
  readonly batches: readonly BatchStatistics[];
}

interface Counter {
  count: number;
  ns: bigint;
}

interface Tally {
  lastInferenceMs: number;
  inferenceCount: number;
  executionCount: number;
  success: Counter;
  fail: Counter;
  queue: Counter;
  computeInfer: Counter;
  /** Per execution batch size: executions and their compute time. */
  batches: Map<number, Counter>;
}

const NONE: Duration = { count: 0, ns: 0n };

/**
 * Triton's statistics extension from the scheduler's reports: every request that reached a model's
 * scheduler (warm-ups excluded) is counted under its model and version. What Skiff measures maps as:
 * queue = waiting for a free model instance; compute_infer = the model run, including handing the tensors
 * to the worker thread and back; success/fail = queue + compute of each request (the protocol decoding
 * before and the encoding after are not in it). Skiff does not time input preparation or output extraction
 * apart from the run, so compute_input and compute_output count each execution with 0 ns: their time is
 * inside compute_infer. Called on the hot path by the scheduler; cheap, never throws.
 */
export class InferenceStatistics implements InferenceObserver {
  private readonly tallies = new Map<string, Tally>();

  constructor(private readonly nowMs: () => number = Date.now) {}

  inferenceDone(report: InferenceReport): void {
    const tally = this.tally(report.model, report.version);
    tally.lastInferenceMs = this.nowMs();
    const queueNs = nanoseconds(report.queueSeconds);
    const computeNs = nanoseconds(report.computeSeconds);
    if (report.outcome === 'failure') {
      add(tally.fail, queueNs + computeNs);
      return;
    }
    add(tally.success, queueNs + computeNs);
    add(tally.queue, queueNs);
    add(tally.computeInfer, computeNs);
    tally.inferenceCount += report.batchSize;
    // One report per execution carries it: the execution's compute time is that request's.
    if (report.execution !== undefined) {
      tally.executionCount++;
      const size = report.execution.batchSize;
      const batch = tally.batches.get(size) ?? { count: 0, ns: 0n };
      add(batch, computeNs);
      tally.batches.set(size, batch);
    }
  }

  /** The statistics of one model version; zeros for a version that has taken no request yet. */
  of(name: string, version: string): ModelStatistics {
    const tally = this.tallies.get(key(name, version));
    if (tally === undefined) {
      return {
        name,
        version,
        lastInferenceMs: 0,
        inferenceCount: 0,
        executionCount: 0,
        success: NONE,
        fail: NONE,
        queue: NONE,
        computeInput: NONE,
        computeInfer: NONE,
        computeOutput: NONE,
        batches: [],
      };
    }
    const executions = tally.executionCount;
    return {
      name,
      version,
      lastInferenceMs: tally.lastInferenceMs,
      inferenceCount: tally.inferenceCount,
      executionCount: executions,
      success: { ...tally.success },
      fail: { ...tally.fail },
      queue: { ...tally.queue },
      computeInput: { count: tally.computeInfer.count, ns: 0n },
      computeInfer: { ...tally.computeInfer },
      computeOutput: { count: tally.computeInfer.count, ns: 0n },
      batches: [...tally.batches.entries()]
        .sort(([a], [b]) => a - b)
        .map(([batchSize, { count, ns }]) => ({
          batchSize,
          computeInput: { count, ns: 0n },
          computeInfer: { count, ns },
          computeOutput: { count, ns: 0n },
        })),
    };
  }

  private tally(name: string, version: string): Tally {
    const k = key(name, version);
    let tally = this.tallies.get(k);
    if (tally === undefined) {
      tally = {
        lastInferenceMs: 0,
        inferenceCount: 0,
        executionCount: 0,
        success: { count: 0, ns: 0n },
        fail: { count: 0, ns: 0n },
        queue: { count: 0, ns: 0n },
        computeInfer: { count: 0, ns: 0n },
        batches: new Map(),
      };
      this.tallies.set(k, tally);
    }
    return tally;
  }
}

function key(name: string, version: string): string {
  return `${name}\u0000${version}`;
}

function nanoseconds(seconds: number): bigint {
  return Number.isFinite(seconds) && seconds > 0 ? BigInt(Math.round(seconds * 1e9)) : 0n;
}

function add(counter: Counter, ns: bigint): void {
  counter.count++;
  counter.ns += ns;
}
