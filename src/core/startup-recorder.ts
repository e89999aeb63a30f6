import type { InstanceLoadTimings } from './model/runtime.js';

/** The phases of a cold start, in order (docs/metrics.md, `skiff_startup_phase_seconds`). */
export const STARTUP_PHASES = ['config', 'model_fetch', 'session_create', 'warm_up', 'ready'] as const;
export type StartupPhase = (typeof STARTUP_PHASES)[number];

/** What the start-up line prints and the start-up metric exports, read once start-up has ended. */
export interface StartupReport {
  /** Milliseconds from process start to the end of each phase; a phase never reached ends with the one before. */
  readonly phasesMs: Readonly<Record<StartupPhase, number>>;
  /**
   * How long each phase itself took: from the last thing that ended before it (another phase, or the
   * listeners opening) to its end.
   */
  readonly durationsMs: Readonly<Record<StartupPhase, number>>;
  /** The model workers' own measure of creating their sessions and warming up, overlapped or not. */
  readonly inWorkers: InstanceLoadTimings | undefined;
}

/**
 * Start-up as it happens: the code that does each step reports it here (`mark('model_fetch')`), the health
 * answers read what start-up is doing now, and the start-up line and metric read the report once. Called from
 * the event loop only. Marks after `ready` are ignored: a model loaded later through the repository API is not
 * start-up.
 */
export class StartupRecorder {
  private readonly marks = new Map<StartupPhase | 'listen', number>();
  private doingNow = 'starting';
  private workers: InstanceLoadTimings | undefined;

  /** `now`: milliseconds since the process started. */
  constructor(private readonly now: () => number) {}

  /** What start-up is doing before any model is registered (fetching, reading config), for readiness answers. */
  get activity(): string {
    return this.doingNow;
  }

  doing(activity: string): void {
    this.doingNow = activity;
  }

  /** A phase ended now; with several models, the phase ends when the last of them ends it. */
  mark(phase: StartupPhase | 'listen'): void {
    if (this.marks.has('ready')) return;
    this.marks.set(phase, this.now());
  }

  /** The runtime's own timings of the model that finished loading last. */
  workersLoaded(timings: InstanceLoadTimings): void {
    if (!this.marks.has('ready')) this.workers = timings;
  }

  report(): StartupReport {
    const phasesMs = {} as Record<StartupPhase, number>;
    const durationsMs = {} as Record<StartupPhase, number>;
    let previous = 0;
    for (const phase of STARTUP_PHASES) {
      const end = Math.max(previous, this.marks.get(phase) ?? previous);
      // Opening the listeners is no phase of its own: what follows it starts there.
      const listen = this.marks.get('listen');
      const start = listen !== undefined && listen > previous && listen <= end ? listen : previous;
      phasesMs[phase] = end;
      durationsMs[phase] = end - start;
      previous = end;
    }
    return { phasesMs, durationsMs, inWorkers: this.workers };
  }
}
