// The one file that imports the OpenTelemetry SDK. server.ts imports it dynamically, only when tracing is
// switched on, so a server without tracing (and every other command) never loads it.
import { DiagLogLevel, ROOT_CONTEXT, SpanKind, SpanStatusCode, diag, trace } from '@opentelemetry/api';
import type { Context, Span, TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { InferenceReport } from '../core/inference-observer.js';
import type { Logger } from '../core/logger.js';
import type { IncomingTraceContext, RequestSpan, RequestTracer, SpanAttributes } from './request-tracer.js';

export interface OtelTracerOptions {
  /** Full OTLP/HTTP traces URL, e.g. http://collector:4318/v1/traces. */
  readonly tracesUrl: string;
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly logger: Logger;
}

/** Longest one export may take; the shutdown flush waits for at most one. */
const EXPORT_TIMEOUT_MS = 5000;

const getter: TextMapGetter<IncomingTraceContext> = {
  keys: () => ['traceparent', 'tracestate'],
  get: (carrier, key) =>
    key === 'traceparent' ? carrier.traceparent : key === 'tracestate' ? carrier.tracestate : undefined,
};

/**
 * Traces over OTLP/HTTP (JSON) through a BatchSpanProcessor: spans are queued in memory and sent in the
 * background, so the request path only records them. Nothing is registered globally: spans are parented
 * explicitly, which keeps this independent of any other OpenTelemetry setup in the process.
 */
export function startOtelTracer(options: OtelTracerOptions): RequestTracer {
  const { logger } = options;
  // The SDK reports export failures (collector down) through diag; without a logger they vanish.
  diag.setLogger(
    {
      error: (message) => logger.warn('tracing', { message }),
      warn: (message) => logger.warn('tracing', { message }),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      'service.version': options.serviceVersion,
    }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: options.tracesUrl, timeoutMillis: EXPORT_TIMEOUT_MS }),
        exportTimeoutMillis: EXPORT_TIMEOUT_MS,
      }),
    ],
  });
  const tracer = provider.getTracer('skiff', options.serviceVersion);
  const propagator = new W3CTraceContextPropagator();
  const now = (): number => performance.timeOrigin + performance.now();

  const child = (
    parent: Context,
    name: string,
    start: number,
    end: number,
    attributes: SpanAttributes,
    failed: boolean,
  ): void => {
    const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: start, attributes }, parent);
    if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(end);
  };

  return {
    startRequest(name, incoming, attributes): RequestSpan {
      const parent =
        incoming.traceparent === undefined
          ? ROOT_CONTEXT
          : propagator.extract(ROOT_CONTEXT, incoming, getter);
      const span: Span = tracer.startSpan(
        name,
        { kind: SpanKind.SERVER, attributes, startTime: now() },
        parent,
      );
      const context = trace.setSpan(ROOT_CONTEXT, span);
      let ended = false;
      return {
        setAttributes: (more) => {
          span.setAttributes(more);
        },
        inference: (report: InferenceReport) => {
          const end = now();
          const computeStart = end - report.computeSeconds * 1000;
          const queueStart = computeStart - report.queueSeconds * 1000;
          const model = { 'skiff.model.name': report.model, 'skiff.model.version': report.version };
          child(context, 'queue', queueStart, computeStart, model, false);
          child(
            context,
            'compute',
            computeStart,
            end,
            {
              ...model,
              'skiff.batch.size': report.batchSize,
              'skiff.batch.execution_size': report.executionBatchSize,
            },
            report.outcome === 'failure',
          );
        },
        end: (error) => {
          if (ended) return;
          ended = true;
          if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
          span.end(now());
        },
      };
    },
    shutdown: async () => {
      try {
        await provider.shutdown();
      } catch (error) {
        logger.warn('tracing: spans not exported at shutdown', {
          message: error instanceof Error ? error.message : String(error),
        });
      }
    },
  };
}
