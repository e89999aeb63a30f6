/** What the monitor thread is told: whom to watch, how often, and when to kill it. */
export interface MonitorSettings {
  readonly pid: number;
  readonly url: string;
  /**
   * A trivial HTTP server in a process of its own, probed beside the server: its latency is what the machine
   * itself (other people's work on a shared host included) adds to any probe.
   */
  readonly referenceUrl: string;
  readonly intervalMs: number;
  readonly rssCeilingBytes: number;
  readonly probeTimeoutMs: number;
  readonly maxOutstandingProbes: number;
}

/** Times are milliseconds on the shared clock `performance.timeOrigin + performance.now()`. */
export interface RssSample {
  readonly at: number;
  readonly bytes: number;
}

export interface ProbeSample {
  /** When the probe was due. */
  readonly at: number;
  /** From when it was due to its answer (or to its failure). */
  readonly ms: number;
  readonly ok: boolean;
}

export interface MonitorSamples {
  readonly rss: readonly RssSample[];
  readonly probes: readonly ProbeSample[];
  /** Ticks with no probe sent because too many were still unanswered (each one a stall the samples miss). */
  readonly skippedProbes: number;
  readonly referenceProbes: readonly ProbeSample[];
  readonly watchdogFiredAt: number | undefined;
}

export const clock = (): number => performance.timeOrigin + performance.now();
