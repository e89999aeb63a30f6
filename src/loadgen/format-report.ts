import type { BenchReport } from './run-bench.js';

/** The human-readable report: one row per step, then the engine figure and any errors. */
export function formatReport(report: BenchReport): string {
  const withEngine = report.engine !== undefined;
  const openLoop = report.steps.some((s) => s.dropped !== undefined);
  const header = [
    'LOAD',
    'REQ/S',
    'P50 MS',
    'P90 MS',
    'P99 MS',
    'MAX MS',
    'OK',
    'ERRORS',
    ...(openLoop ? ['DROPPED', 'LATE'] : []),
    ...(withEngine ? ['X ENGINE', 'P50 - ENGINE'] : []),
  ];
  const rows = report.steps.map((s) => [
    s.label,
    fixed(s.perSecond, 1),
    ms(s.latency.p50Ms),
    ms(s.latency.p90Ms),
    ms(s.latency.p99Ms),
    ms(s.latency.maxMs),
    String(s.ok),
    String(s.errors),
    ...(openLoop ? [String(s.dropped ?? 0), String(s.late ?? 0)] : []),
    ...(withEngine ? [fixed(s.engineRatio ?? NaN, 3), `${ms(s.p50OverEngineMs ?? NaN)} ms`] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const lines = [line(header), ...rows.map(line)];
  if (report.engine !== undefined) {
    const e = report.engine;
    lines.push(
      '',
      `engine alone (ONNX Runtime, ${e.threads} thread(s), batch 1): ${fixed(e.perSecond, 1)} img/s, p50 ${ms(e.latency.p50Ms)} ms, p99 ${ms(e.latency.p99Ms)} ms (${e.runs} runs)`,
    );
  }
  for (const step of report.steps) {
    for (const [status, { count, message }] of Object.entries(step.errorsByStatus)) {
      const what = status === '0' ? 'no answer' : /^\d+$/.test(status) ? `HTTP ${status}` : `gRPC ${status}`;
      lines.push(`${step.label}: ${count} x ${what}: ${message}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Milliseconds: two decimals below 10 ms, where a tenth would hide the difference between fast paths. */
function ms(value: number): string {
  return fixed(value, Math.abs(value) < 10 ? 2 : 1);
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}
