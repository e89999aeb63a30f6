import { formatPercent } from './format.js';

/** One bar of the result: the label, its share of the bar track (0..100) and the text read out. */
export interface PredictionBar {
  readonly label: string;
  readonly probability: number;
  readonly widthPercent: number;
  readonly percentText: string;
}

export type PredictionView =
  | { readonly kind: 'bars'; readonly bars: readonly PredictionBar[] }
  | { readonly kind: 'error'; readonly message: string };

/**
 * Turns a /predict answer into bars, or into the message to show. The body is untrusted JSON: anything
 * not shaped like `{"predictions": [{label, probability}]}` or `{"error": "..."}` is reported as such, so
 * the page never shows a half-drawn result.
 */
export function predictionView(status: number, body: unknown): PredictionView {
  const record = isRecord(body) ? body : undefined;
  if (status < 200 || status > 299 || record?.success === false) {
    const message = typeof record?.error === 'string' ? record.error : `the server answered ${status}`;
    return { kind: 'error', message: status >= 400 ? `${message} (HTTP ${status})` : message };
  }
  const predictions = record?.predictions;
  if (!Array.isArray(predictions))
    return { kind: 'error', message: 'the answer has no "predictions" list (is this an image model?)' };
  const bars: PredictionBar[] = [];
  for (const p of predictions) {
    if (!isRecord(p) || typeof p.label !== 'string' || typeof p.probability !== 'number')
      return { kind: 'error', message: 'a prediction lacks a label or a probability' };
    const probability = Math.min(1, Math.max(0, p.probability));
    bars.push({
      label: p.label,
      probability,
      // A sliver stays visible for tiny values so every listed class has a bar to see.
      widthPercent: Math.max(0.5, Math.round(probability * 1000) / 10),
      percentText: formatPercent(probability),
    });
  }
  return { kind: 'bars', bars };
}

/** Server-Timing `name;dur=12.3` (milliseconds): the first entry with a duration. */
export function serverTimingMs(header: string | null): number | undefined {
  const match = /(?:^|,)\s*[\w-]+\s*(?:;[^,]*?)?;\s*dur=([\d.]+)/.exec(header ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
