/**
 * Receives one report per request that reached a model (admitted by its scheduler), for metrics. Called on
 * the hot path, synchronously; must be cheap and never throw.
 */
export interface InferenceObserver {
  inferenceDone(report: InferenceReport): void;
}

export interface InferenceReport {
  readonly model: string;
  readonly version: string;
  readonly outcome: 'success' | 'failure';
  /** Waiting for a free model instance. */
  readonly queueSeconds: number;
  /** Running on the model (0 when the request never started). */
  readonly computeSeconds: number;
  /** Rows this request contributed (its batch dimension). */
  readonly batchSize: number;
  /** Set on exactly one request per model execution: the execution's whole batch size. */
  readonly execution?: { readonly batchSize: number } | undefined;
}

export const NO_OBSERVER: InferenceObserver = { inferenceDone: () => undefined };
