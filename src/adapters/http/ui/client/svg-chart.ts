import type { ChartPoint } from '../logic/chart-geometry.js';
import { linePath, niceMax } from '../logic/chart-geometry.js';
import { formatClock } from '../logic/format.js';
import { element, svgElement } from './dom.js';

export interface ChartLine {
  readonly name: string;
  readonly points: readonly ChartPoint[];
  /** CSS class of the legend text; the stroke colour comes from the same palette. */
  readonly className: 'legend-a' | 'legend-b';
}

const WIDTH = 300;
const HEIGHT = 90;
const STROKES = { 'legend-a': '#0b57d0', 'legend-b': '#a3400c' } as const;

/**
 * Draws a small line chart into `figure`: a caption with the newest values, an SVG with a text summary
 * for screen readers (the lines themselves say nothing to them), and the time span below.
 */
export function drawChart(
  figure: HTMLElement,
  title: string,
  lines: readonly ChartLine[],
  window: { readonly startMs: number; readonly endMs: number },
  format: (value: number | undefined) => string,
): void {
  const values = lines.flatMap((l) => l.points.map((p) => p.y ?? 0));
  const yMax = niceMax(Math.max(0, ...values));
  const box = { width: WIDTH, height: HEIGHT, startMs: window.startMs, endMs: window.endMs, yMax };
  const latest = lines.map(
    (l) => `${l.name} ${format([...l.points].reverse().find((p) => p.y !== undefined)?.y)}`,
  );
  const svg = svgElement('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-label': `${title}, last ${Math.round((window.endMs - window.startMs) / 60000)} minutes; latest: ${latest.join(', ')}; axis maximum ${format(yMax)}`,
    preserveAspectRatio: 'none',
  });
  for (const y of [0, HEIGHT / 2, HEIGHT])
    svg.append(
      svgElement('line', {
        x1: '0',
        x2: String(WIDTH),
        y1: String(y),
        y2: String(y),
        stroke: '#c9cdd3',
        'stroke-width': '1',
      }),
    );
  for (const line of lines) {
    svg.append(
      svgElement('path', {
        d: linePath(line.points, box),
        fill: 'none',
        stroke: STROKES[line.className],
        'stroke-width': '2',
        'vector-effect': 'non-scaling-stroke',
        'stroke-linejoin': 'round',
      }),
    );
  }
  const caption = element(
    'figcaption',
    {},
    element('span', { text: title }),
    element(
      'span',
      {},
      ...lines.map((l, i) =>
        element('span', {
          className: l.className,
          text: `${i > 0 ? ' · ' : ''}${l.name} ${format([...l.points].reverse().find((p) => p.y !== undefined)?.y)}`,
        }),
      ),
    ),
  );
  const axis = element(
    'div',
    { className: 'axis', attrs: { 'aria-hidden': 'true' } },
    element('span', { text: formatClock(window.startMs) }),
    element('span', { text: `max ${format(yMax)}` }),
    element('span', { text: formatClock(window.endMs) }),
  );
  figure.replaceChildren(caption, svg, axis);
}
