import type { InferenceReport } from '../core/inference-observer.js';

export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

/** W3C trace context a caller sent (HTTP headers or gRPC metadata of the same names). */
export interface IncomingTraceContext {
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

/**
 * Where the protocol adapters report each request for tracing. Called on the request path, once per
 * request, from the event loop; must be cheap and never throw. The OpenTelemetry implementation lives in
 * otel-tracer.ts and is imported only when tracing is switched on.
 */
export interface RequestTracer {
  /** Starts the server span of one HTTP request or gRPC call, as a child of the caller's trace if it sent one. */
  startRequest(name: string, incoming: IncomingTraceContext, attributes: SpanAttributes): RequestSpan;
  /** Exports the spans still buffered and stops; called once, on shutdown. Never rejects. */
  shutdown(): Promise<void>;
}

export interface RequestSpan {
  setAttributes(attributes: SpanAttributes): void;
  /** Adds the request's `queue` and `compute` child spans, timed back from now by the report's durations. */
  inference(report: InferenceReport): void;
  /** Ends the span; an `error` marks it failed with that (client-safe) message. Later calls do nothing. */
  end(error?: string): void;
}

const NO_SPAN: RequestSpan = {
  setAttributes: () => undefined,
  inference: () => undefined,
  end: () => undefined,
};

/** Tracing off: every call is a no-op and nothing of OpenTelemetry is loaded. */
export const NO_TRACER: RequestTracer = {
  startRequest: () => NO_SPAN,
  shutdown: () => Promise.resolve(),
};
