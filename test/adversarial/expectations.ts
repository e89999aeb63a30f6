import assert from 'node:assert/strict';
import type { AttackReport } from './attack-report.js';
import type { Answer } from './http-answer.js';

/**
 * The targets of the hardening work (the issue the request-lifecycle rewrite answers): under every attack
 * the server refuses with a JSON 4xx/503 (gRPC: a non-OK status) within 1 s, stays under its start RSS +
 * 512 MB, answers a probe within 50 ms (p99), and keeps serving legitimate clients.
 */
export interface Expectations {
  readonly maxRssGrowthMiB: number;
  readonly maxProbeP99Ms: number;
  /** Longest a refusal (any answer but a success) may take. */
  readonly maxRefusalMs: number;
  readonly legitimateMustSucceed: boolean;
  /** Whether an answer's status is acceptable at all (successes included). */
  readonly acceptable: (answer: Answer) => boolean;
  /** Whether the attack must have got an answer per request (false when it reads none on purpose). */
  readonly everyRequestAnswered: boolean;
}

/** 200, a 4xx, or a 503; on gRPC any status that is not a server fault. */
export function refusedOrServed(answer: Answer): boolean {
  if (answer.protocol === 'grpc') return !['INTERNAL', 'UNKNOWN', 'DATA_LOSS'].includes(answer.code);
  return answer.code === '200' || /^4\d\d$/.test(answer.code) || answer.code === '503';
}

/**
 * The timing targets (probe p99, refusal time) are claims about speed, and speed depends on the machine: a
 * shared CI runner cannot vouch for them. They are always measured and printed; they fail the test only
 * when SKIFF_ATTACK_STRICT=1, on a quiet machine (docs/performance.md has such a run). Everything else
 * (answers, memory, survival, work after a client left, leaks) always fails the test.
 */
export const STRICT_TIMING = process.env.SKIFF_ATTACK_STRICT === '1';

export const HARMLESS: Expectations = {
  maxRssGrowthMiB: 512,
  maxProbeP99Ms: 50,
  maxRefusalMs: 1000,
  legitimateMustSucceed: true,
  acceptable: refusedOrServed,
  everyRequestAnswered: true,
};

function isSuccess(answer: Answer): boolean {
  return answer.code === '200' || answer.code === 'OK';
}

/** Skiff's error shape: a JSON object with an "error" string (the first 4 KiB of it were kept). */
export function isJsonError(answer: Answer): boolean {
  if (!/json/i.test(answer.contentType ?? '')) return false;
  try {
    const body = JSON.parse(answer.text) as { error?: unknown };
    return typeof body.error === 'string';
  } catch {
    // A body longer than the kept 4 KiB is not a short error message either.
    return false;
  }
}

/** Every way the report misses the expectations, one line each, grouped so a flood of answers reads short. */
export function violations(report: AttackReport, expect: Expectations = HARMLESS): string[] {
  const found: string[] = [];
  if (!report.survived)
    found.push(
      `the server did not survive${report.watchdogFired ? ' (killed by the RSS watchdog)' : ''}: ${JSON.stringify(report.exit)}`,
    );
  if (report.peakRssGrowthMiB > expect.maxRssGrowthMiB)
    found.push(
      `RSS grew ${report.peakRssGrowthMiB.toFixed(0)} MiB at its peak (limit ${expect.maxRssGrowthMiB})`,
    );
  if (STRICT_TIMING && !(report.probeMs.p99 <= expect.maxProbeP99Ms))
    found.push(
      `probe p99 ${report.probeMs.p99.toFixed(1)} ms (limit ${expect.maxProbeP99Ms}), max ${report.probeMs.max.toFixed(0)} ms` +
        // Only when the machine's own delay could explain the excess: not for stalls far beyond it.
        (report.referenceProbeMs.p99 > expect.maxProbeP99Ms &&
        report.probeMs.p99 <= report.referenceProbeMs.p99 + expect.maxProbeP99Ms
          ? `; the machine itself was as slow (reference p99 ${report.referenceProbeMs.p99.toFixed(1)} ms): rerun on a quieter machine before blaming the server`
          : ''),
    );
  if (report.probeFailures > 0) found.push(`${report.probeFailures} liveness probes failed`);
  if (expect.legitimateMustSucceed && report.legitimate.failed > 0)
    found.push(
      `${report.legitimate.failed} legitimate requests failed: ${JSON.stringify(report.legitimate.outcomes)}`,
    );
  if (expect.legitimateMustSucceed && report.legitimate.ok === 0)
    found.push('no legitimate request succeeded');
  const grouped = new Map<string, number>();
  const add = (line: string): void => {
    grouped.set(line, (grouped.get(line) ?? 0) + 1);
  };
  for (const answer of report.answers) {
    if (answer.code.startsWith('no answer')) {
      if (expect.everyRequestAnswered) add(`${answer.protocol} request got ${answer.code}`);
      continue;
    }
    if (!expect.acceptable(answer))
      add(`${answer.protocol} answer ${answer.code} (${withoutIds(answer.text).slice(0, 120)})`);
    if (isSuccess(answer)) continue;
    if (STRICT_TIMING && answer.ms > expect.maxRefusalMs)
      add(`${answer.protocol} refusal ${answer.code} took over ${expect.maxRefusalMs} ms`);
    if (answer.protocol === 'http' && !isJsonError(answer))
      add(
        `HTTP ${answer.code} is not Skiff's JSON {"error"} (${answer.contentType ?? 'no type'}: ${withoutIds(answer.text).slice(0, 80)})`,
      );
  }
  for (const [line, count] of grouped) found.push(count === 1 ? line : `${count}× ${line}`);
  return found;
}

/**
 * Fails the test with every violation at once, so one run shows all that is wrong; `also` adds the attack's
 * own checks (a message each where it failed, `false` where it passed).
 */
export function assertHarmless(
  report: AttackReport,
  expect: Partial<Expectations> = {},
  also: readonly (string | false)[] = [],
): void {
  const found = [
    ...violations(report, { ...HARMLESS, ...expect }),
    ...also.filter((line): line is string => line !== false),
  ];
  assert.deepEqual(found, [], `${report.name}:\n  ${found.join('\n  ')}`);
}

/** Request ids differ in every answer; without them, identical answers group into one line. */
function withoutIds(text: string): string {
  return text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>');
}
