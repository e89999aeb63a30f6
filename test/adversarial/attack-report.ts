import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Answer } from './http-answer.js';
import type { LegitimateResult } from './legitimate-traffic.js';
import type { ProcessExit } from './skiff-process.js';
import { repoRoot } from '../helpers/paths.js';

export interface Quantiles {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** What one attack cost the server, as seen from outside. Memory in MiB, times in milliseconds. */
export interface AttackReport {
  readonly name: string;
  readonly answers: readonly Answer[];
  /** How many answers had each code. */
  readonly codes: Readonly<Record<string, number>>;
  readonly answerMs: Quantiles;
  readonly attackMs: number;
  readonly startRssMiB: number;
  readonly peakRssGrowthMiB: number;
  /** RSS a settling time after the attack minus RSS before it; undefined when the server did not survive. */
  readonly afterRssGrowthMiB: number | undefined;
  readonly probeMs: Quantiles;
  readonly probeFailures: number;
  /** The same probe against a trivial server in its own process: what the machine alone adds. */
  readonly referenceProbeMs: Quantiles;
  readonly legitimate: LegitimateResult;
  readonly survived: boolean;
  readonly watchdogFired: boolean;
  readonly exit: ProcessExit | undefined;
  /** Attack-specific figures (inference counts, goodput, ...). */
  readonly notes: Readonly<Record<string, string | number>>;
}

export function quantiles(values: readonly number[]): Quantiles {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number =>
    sorted.length === 0
      ? NaN
      : (sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1] ?? NaN);
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.length === 0 ? NaN : at(1) };
}

export function countCodes(answers: readonly Answer[]): Record<string, number> {
  const codes: Record<string, number> = {};
  for (const answer of answers) {
    // Network errors carry the error text; counting them by their first words keeps the table short.
    const key = answer.code.length > 60 ? `${answer.code.slice(0, 60)}…` : answer.code;
    codes[key] = (codes[key] ?? 0) + 1;
  }
  return codes;
}

const fixed = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');

/** One paragraph per attack, for the test's diagnostics. */
export function formatReport(report: AttackReport): string {
  const codes = Object.entries(report.codes)
    .map(([code, count]) => `${code}×${count}`)
    .join(', ');
  const legit = report.legitimate;
  const notes = Object.entries(report.notes)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  return [
    `${report.name}: answers [${codes || 'none'}] in p50 ${fixed(report.answerMs.p50)} / max ${fixed(report.answerMs.max)} ms (attack ${fixed(report.attackMs)} ms)`,
    `  RSS start ${fixed(report.startRssMiB)} MiB, peak +${fixed(report.peakRssGrowthMiB)}, after +${report.afterRssGrowthMiB === undefined ? '-' : fixed(report.afterRssGrowthMiB)}` +
      `; probe p50 ${fixed(report.probeMs.p50, 1)} p99 ${fixed(report.probeMs.p99, 1)} max ${fixed(report.probeMs.max, 1)} ms (${report.probeMs.count} probes, ${report.probeFailures} failed; reference p99 ${fixed(report.referenceProbeMs.p99, 1)})`,
    `  legitimate ${legit.ok} ok / ${legit.failed} failed ${JSON.stringify(legit.outcomes)}; survived ${report.survived ? 'yes' : `NO${report.watchdogFired ? ' (watchdog)' : ''} ${JSON.stringify(report.exit)}`}`,
    ...(notes === '' ? [] : [`  ${notes}`]),
  ].join('\n');
}

/**
 * Appends the report, without the answers' bodies, to one JSON line per attack, so a run's figures can be
 * tabled afterwards: $SKIFF_ATTACK_REPORT, else test-artifacts/adversarial/report.jsonl (git-ignored).
 */
export function recordReport(report: AttackReport): void {
  const file =
    process.env.SKIFF_ATTACK_REPORT ?? path.join(repoRoot(), 'test-artifacts', 'adversarial', 'report.jsonl');
  mkdirSync(path.dirname(file), { recursive: true });
  const { answers, ...figures } = report;
  appendFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), ...figures, answerCount: answers.length })}\n`,
  );
}
