/**
 * Receives one report per request that reached a model (admitted by its scheduler), for metrics, request
 * logs and traces. Called on the hot path, synchronously; must be cheap and never throw.
 */
export interface InferenceObserver {
  /**
   * Called when a request is handed to a model's scheduler, synchronously and in the caller's (async)
   * context; what it returns comes back as that request's `report.context`. A batch is reported from
   * whichever request's callback runs it, so this is how an observer ties a report to its own request.
   */
  requestContext?(): unknown;
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
  /** Rows of the model execution this request ran in: its own plus those batched with it. */
  readonly executionBatchSize: number;
  /** Set on exactly one request per model execution: the execution's whole batch size. */
  readonly execution?: { readonly batchSize: number } | undefined;
  /** What `requestContext()` returned when this request was submitted. */
  readonly context?: unknown;
}

export const NO_OBSERVER: InferenceObserver = { inferenceDone: () => undefined };

/** One observer telling several (metrics and request telemetry); the first to offer a context supplies it. */
export function observeAll(observers: readonly InferenceObserver[]): InferenceObserver {
  const withContext = observers.find((o) => o.requestContext !== undefined);
  return {
    ...(withContext?.requestContext === undefined
      ? {}
      : { requestContext: withContext.requestContext.bind(withContext) }),
    inferenceDone: (report) => {
      for (const observer of observers) observer.inferenceDone(report);
    },
  };
}
