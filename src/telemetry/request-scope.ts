import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { InferenceObserver, InferenceReport } from '../core/inference-observer.js';
import type { RequestSpan } from './request-tracer.js';

/** A caller's id is kept only if it is short and plain, so it cannot forge or flood a log line. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `x-request-id` when it is sane, else a fresh UUID. */
export function requestIdFrom(given: unknown): string {
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * What one request's access line and trace need that only the core learns: which model version served it
 * and how long it queued and computed. Filled in by `requestObserver` when the model reports.
 */
export class RequestRecord {
  readonly started = performance.now();
  model: string | undefined;
  version: string | undefined;
  queueMs: number | undefined;
  computeMs: number | undefined;
  batchSize: number | undefined;
  /** Set once the access line is written, so an abort followed by a late response logs once. */
  finished = false;

  constructor(
    readonly id: string,
    readonly span: RequestSpan,
  ) {}

  /** Milliseconds since the request arrived, to 0.1 ms. */
  elapsedMs(): number {
    return Math.round((performance.now() - this.started) * 10) / 10;
  }

  /** The model fields of an access line (only those known). */
  modelFields(fallbackModel?: string): Record<string, string | number> {
    const fields: Record<string, string | number> = {};
    const model = this.model ?? fallbackModel;
    if (model !== undefined) fields.model = model;
    if (this.version !== undefined) fields.version = this.version;
    if (this.queueMs !== undefined) fields.queueMs = this.queueMs;
    if (this.computeMs !== undefined) fields.computeMs = this.computeMs;
    if (this.batchSize !== undefined) fields.batchSize = this.batchSize;
    return fields;
  }
}

const scope = new AsyncLocalStorage<RequestRecord>();

/** Runs an adapter's handler with `record` as the current request, so the model's report finds it. */
export function inRequest<T>(record: RequestRecord, run: () => T): T {
  return scope.run(record, run);
}

const round = (seconds: number): number => Math.round(seconds * 10_000) / 10;

/**
 * Ties each inference report to the request it belongs to (captured when the request was submitted, since a
 * batch is reported from another request's callback) and hands it to that request's span.
 */
export const requestObserver: InferenceObserver = {
  requestContext: () => scope.getStore(),
  inferenceDone(report: InferenceReport): void {
    const record = report.context;
    if (!(record instanceof RequestRecord)) return;
    record.model = report.model;
    record.version = report.version;
    record.queueMs = round(report.queueSeconds);
    record.computeMs = round(report.computeSeconds);
    record.batchSize = report.executionBatchSize;
    record.span.inference(report);
  },
};
