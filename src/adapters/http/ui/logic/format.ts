/** Seconds as the unit a person reads fastest: µs below a millisecond, ms below a second, else s. */
export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 0.001) return `${Math.round(seconds * 1e6)} µs`;
  if (seconds < 1) return `${trim(seconds * 1000)} ms`;
  return `${trim(seconds)} s`;
}

/** Milliseconds, as measured by the browser or the Server-Timing header. */
export function formatMs(ms: number | undefined): string {
  return ms === undefined ? '–' : formatSeconds(ms / 1000);
}

/** A probability 0..1 as a percentage with one decimal ("99.4%"); tiny ones as "<0.1%" rather than 0.0. */
export function formatPercent(probability: number): string {
  if (!Number.isFinite(probability)) return '–';
  const percent = probability * 100;
  if (percent > 0 && percent < 0.05) return '<0.1%';
  return `${percent.toFixed(1)}%`;
}

export function formatRate(perSecond: number | undefined): string {
  if (perSecond === undefined || !Number.isFinite(perSecond)) return '–';
  return `${trim(perSecond)}/s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${trim(bytes / 1024)} KB`;
  return `${trim(bytes / 1024 / 1024)} MB`;
}

/** Clock time HH:MM:SS in the reader's time zone, for chart axes. */
export function formatClock(timeMs: number): string {
  const d = new Date(timeMs);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** Three significant digits at most, without trailing zeros: 12.3, 0.412, 1234. */
function trim(value: number): string {
  if (value === 0) return '0';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return String(Number(value.toFixed(digits)));
}
