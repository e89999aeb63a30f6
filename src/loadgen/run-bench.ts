import { setTimeout as sleep } from 'node:timers/promises';
import { runClosedLoop } from './closed-loop.js';
import type { EngineFigure } from '../stats/engine-figure.js';
import { runOpenLoop } from './open-loop.js';
import type { LiveCounts, Send, StepLength, StepResult } from './step-tally.js';

export type LoadLevel =
  | { readonly kind: 'concurrency'; readonly concurrency: number }
  | { readonly kind: 'rate'; readonly ratePerSecond: number };

export interface BenchPlan {
  readonly levels: readonly LoadLevel[];
  readonly length: StepLength;
  /** Unrecorded load before the first step, at the plan's highest level, so every worker is warm. */
  readonly warmupMs: number;
  /** Open loop: the most requests left unanswered before arrivals are dropped. */
  readonly maxInFlight: number;
}

export interface BenchStep extends StepResult {
  /** With an engine figure: this step's req/s over the engine's img/s. */
  readonly engineRatio?: number;
  /** With an engine figure: this step's p50 minus the engine's p50 (what serving adds, at this load). */
  readonly p50OverEngineMs?: number;
}

export interface BenchReport {
  readonly engine?: EngineFigure;
  readonly steps: readonly BenchStep[];
  readonly ok: number;
  readonly errors: number;
}

export interface BenchHooks {
  /** Measured before any load, so the server is idle while the engine runs on the same cores. */
  readonly engine?: () => Promise<EngineFigure>;
  readonly onPhase?: (phase: string) => void;
  readonly onProgress?: (phase: string, live: LiveCounts) => void;
  readonly onStep?: (step: BenchStep) => void;
}

/** Runs the plan's steps one after another against one sender. */
export async function runBench(plan: BenchPlan, send: Send, hooks: BenchHooks = {}): Promise<BenchReport> {
  let engine: EngineFigure | undefined;
  if (hooks.engine !== undefined) {
    hooks.onPhase?.('engine alone');
    engine = await hooks.engine();
  }
  const runLevel = (level: LoadLevel, length: StepLength, phase: string): Promise<StepResult> => {
    const onProgress = (live: LiveCounts): void => hooks.onProgress?.(phase, live);
    return level.kind === 'concurrency'
      ? runClosedLoop({ send, concurrency: level.concurrency, length, onProgress })
      : runOpenLoop({
          send,
          ratePerSecond: level.ratePerSecond,
          maxInFlight: plan.maxInFlight,
          length,
          onProgress,
        });
  };
  if (plan.warmupMs > 0) {
    const top = plan.levels.reduce((a, b) => (weight(b) > weight(a) ? b : a));
    await runLevel(top, { durationMs: plan.warmupMs }, 'warm-up');
  }
  const steps: BenchStep[] = [];
  for (const level of plan.levels) {
    const label = level.kind === 'concurrency' ? `c=${level.concurrency}` : `rate=${level.ratePerSecond}/s`;
    hooks.onPhase?.(label);
    const result = await runLevel(level, plan.length, label);
    const step: BenchStep =
      engine === undefined
        ? result
        : {
            ...result,
            engineRatio: result.perSecond / engine.perSecond,
            p50OverEngineMs: result.latency.p50Ms - engine.latency.p50Ms,
          };
    steps.push(step);
    hooks.onStep?.(step);
    // Let the server finish what an open loop left in its queue before the next step starts.
    await sleep(50);
  }
  return {
    ...(engine === undefined ? {} : { engine }),
    steps,
    ok: steps.reduce((n, s) => n + s.ok, 0),
    errors: steps.reduce((n, s) => n + s.errors, 0),
  };
}

function weight(level: LoadLevel): number {
  return level.kind === 'concurrency' ? level.concurrency : level.ratePerSecond;
}
