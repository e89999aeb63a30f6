import { Metadata, status as Status } from '@grpc/grpc-js';
import type { ServerErrorResponse, ServerUnaryCall, handleUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from '../../core/logger.js';
import type { RequestContext } from '../../core/request/request-context.js';
import type { RequestTracer } from '../../telemetry/request-tracer.js';
import { RequestLifetime } from '../../core/request/request-context.js';
import { NO_TRACER } from '../../telemetry/request-tracer.js';
import { RequestRecord, inRequest, requestIdFrom } from '../../telemetry/request-scope.js';
import { bearerCheck } from '../bearer-check.js';
import { errorLogFields, toClientError } from '../error-table.js';
import { REQUEST_TURNS } from '../turn-queue.js';

/** Trailing metadata keys Skiff adds: the stable error code, and why something is not ready. */
export const ERROR_CODE_KEY = 'skiff-error-code';
export const NOT_READY_REASON_KEY = 'skiff-not-ready-reason';
/** Metadata key of the request id: taken from the call if sane, else made; sent back in the response headers. */
export const REQUEST_ID_KEY = 'x-request-id';

const SERVICE_NAME = 'inference.GRPCInferenceService';
/** Probes call these every few seconds; a span for each would drown the real traffic. */
const UNTRACED_RPCS = new Set(['ServerLive', 'ServerReady']);
/** Server span statuses that mean the server failed, as OpenTelemetry's gRPC conventions list them. */
const SERVER_FAULTS = new Set<Status>([
  Status.UNKNOWN,
  Status.DEADLINE_EXCEEDED,
  Status.UNIMPLEMENTED,
  Status.INTERNAL,
  Status.UNAVAILABLE,
  Status.DATA_LOSS,
]);

export interface CallOptions {
  readonly logger: Logger;
  readonly accessLog: boolean;
  readonly tracer: RequestTracer;
  readonly authToken: string | undefined;
  /** The server's bound on one call (0: none); the call's own deadline may be earlier. */
  readonly requestTimeoutMs: number;
}

/** What a handler answers: the response, and trailing metadata to send with it. */
export interface Answer<Res> {
  readonly response: Res;
  readonly trailers?: Metadata;
}

/**
 * Every gRPC call's lifecycle around its handler, as request-hooks.ts is for HTTP: request id and span, the
 * bearer token (every method but ServerLive), the call's deadline and cancellation as a RequestContext, the
 * error table for failures (internal details logged, masked in the answer), and the access line.
 */
export function callWrapper(options: CallOptions) {
  const authorize = bearerCheck(options.authToken, 'metadata');
  return <Req, Res>(
      rpc: string,
      handle: (request: Req, context: RequestContext) => Res | Answer<Res> | Promise<Res | Answer<Res>>,
      answers: 'plain' | 'with-trailers' = 'plain',
    ): handleUnaryCall<Req, Res> =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const id = requestIdFrom(call.metadata.get(REQUEST_ID_KEY)[0]);
      const headers = new Metadata();
      headers.set(REQUEST_ID_KEY, id);
      call.sendMetadata(headers);
      const record = new RequestRecord(id, startSpan(options.tracer, rpc, id, call.metadata));
      const lifetime = new RequestLifetime(id, {
        serverMs: options.requestTimeoutMs,
        clientMs: clientBudgetMs(call.getDeadline()),
      });
      const onCancel = (): void => {
        lifetime.cancel('the call was cancelled');
      };
      call.once('cancelled', onCancel);
      const end = (code: Status): void => {
        call.removeListener('cancelled', onCancel);
        lifetime.dispose();
        endCall(options, rpc, record, call.request, code);
      };
      const run = (): void => {
        // Cancelled while it waited for its turn: nothing of it runs.
        if (call.cancelled) {
          end(Status.CANCELLED);
          callback({ code: Status.CANCELLED, details: 'the call was cancelled' });
          return;
        }
        inRequest(record, () => {
          void handleCall();
        });
      };
      const handleCall = async (): Promise<void> => {
        try {
          if (rpc !== 'ServerLive') authorize(String(call.metadata.get('authorization')[0] ?? ''));
          const result = await handle(call.request, lifetime);
          const answer = answers === 'with-trailers' ? (result as Answer<Res>) : { response: result as Res };
          // A client that cancelled (or timed out) while the call ran never gets the answer.
          end(call.cancelled ? Status.CANCELLED : Status.OK);
          callback(null, answer.response, answer.trailers);
        } catch (error) {
          const failure = serviceError(error, rpc, id, options.logger);
          end(call.cancelled ? Status.CANCELLED : failure.code);
          callback(failure);
        }
      };
      // Probes are answered at once; every other call waits its turn of the event loop (turn-queue.ts), so
      // that a burst of large calls cannot hold the loop in one go.
      if (UNTRACED_RPCS.has(rpc)) run();
      else REQUEST_TURNS.enqueue(run);
    };
}

/** The time left before the call's deadline, in ms; undefined when the client set none. */
function clientBudgetMs(deadline: Date | number): number | undefined {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - Date.now());
}

function startSpan(tracer: RequestTracer, rpc: string, id: string, metadata: Metadata) {
  if (UNTRACED_RPCS.has(rpc)) return NO_TRACER.startRequest('', {}, {});
  return tracer.startRequest(
    `${SERVICE_NAME}/${rpc}`,
    { traceparent: textOf(metadata, 'traceparent'), tracestate: textOf(metadata, 'tracestate') },
    {
      'rpc.system': 'grpc',
      'rpc.service': SERVICE_NAME,
      'rpc.method': rpc,
      'skiff.request_id': id,
      'skiff.protocol': 'open-inference-v2-grpc',
    },
  );
}

/** The access line and the end of the span, once the answer (or error) is handed to grpc-js. */
function endCall(
  options: CallOptions,
  rpc: string,
  record: RequestRecord,
  request: unknown,
  code: Status,
): void {
  const fields = record.modelFields(requestedModel(request));
  if (options.accessLog) {
    options.logger.info('request', {
      requestId: record.id,
      protocol: 'grpc',
      method: rpc,
      grpcStatus: Status[code],
      ms: record.elapsedMs(),
      ...fields,
    });
  }
  record.span.setAttributes({
    'rpc.grpc.status_code': code,
    ...(typeof fields.model === 'string' ? { 'skiff.model.name': fields.model } : {}),
    ...(typeof fields.version === 'string' ? { 'skiff.model.version': fields.version } : {}),
  });
  record.span.end(SERVER_FAULTS.has(code) ? `gRPC ${Status[code]}` : undefined);
}

function serviceError(
  thrown: unknown,
  rpc: string,
  requestId: string,
  logger: Logger,
): ServerErrorResponse & { code: Status } {
  const { error, row, clientMessage } = toClientError(thrown, requestId);
  if (row.log === 'error-with-stack')
    logger.error('gRPC call failed', { rpc, requestId, ...errorLogFields(error, thrown) });
  else logger.debug('gRPC call refused', { rpc, requestId, code: error.code, message: error.message });
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, error.code);
  // The table holds the wire numbers of gRPC's status codes, which grpc-js's enum has the same values for.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
  const code: Status = row.grpc;
  return Object.assign(new Error(clientMessage), { code, details: clientMessage, metadata });
}

function textOf(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** Fields that name a model in the service's requests: `name` (metadata, ready) or `model_name` (infer). */
function requestedModel(request: unknown): string | undefined {
  if (request === null || typeof request !== 'object') return undefined;
  const { name, model_name } = request as { name?: unknown; model_name?: unknown };
  const model = typeof model_name === 'string' ? model_name : name;
  return typeof model === 'string' && model !== '' ? model : undefined;
}
