/** A series to draw: y undefined leaves a gap (no requests, so no latency) rather than a fake zero. */
export interface ChartPoint {
  readonly timeMs: number;
  readonly y: number | undefined;
}

export interface ChartBox {
  readonly width: number;
  readonly height: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly yMax: number;
}

/**
 * The SVG path `d` of a line chart in a box whose y axis points down: one `M` per unbroken run, so gaps
 * stay gaps; an isolated point becomes a short flat segment so it is still visible.
 */
export function linePath(points: readonly ChartPoint[], box: ChartBox): string {
  const span = Math.max(1, box.endMs - box.startMs);
  const yMax = box.yMax > 0 ? box.yMax : 1;
  const parts: string[] = [];
  let run: string[] = [];
  const flush = (): void => {
    if (run.length === 1) {
      const [x, y] = (run[0] ?? '0 0').split(' ').map(Number);
      run.push(`${round((x ?? 0) + 1.5)} ${y ?? 0}`);
    }
    if (run.length > 0) parts.push(`M${run.join('L')}`);
    run = [];
  };
  for (const p of points) {
    if (p.y === undefined || !Number.isFinite(p.y) || p.timeMs < box.startMs) {
      flush();
      continue;
    }
    const x = ((p.timeMs - box.startMs) / span) * box.width;
    const y = box.height - (Math.min(p.y, yMax) / yMax) * box.height;
    run.push(`${round(x)} ${round(y)}`);
  }
  flush();
  return parts.join('');
}

/** A round axis maximum at or above `value`: 1, 2 or 5 times a power of ten (0 gives 1). */
export function niceMax(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
