import { createHash, timingSafeEqual } from 'node:crypto';
import { Metadata, Server, ServerCredentials, setLogger, status as Status } from '@grpc/grpc-js';
import type { handleUnaryCall, sendUnaryData, ServerErrorResponse, ServerUnaryCall } from '@grpc/grpc-js';
import type { InferenceService } from '../../core/inference-service.js';
import type { Logger } from '../../core/logger.js';
import type { ModelInferRequestMessage, ModelInferResponseMessage } from './grpc-codec.js';
import { SkiffError, toSkiffError } from '../../core/errors.js';
import { decodeModelInfer, encodeModelInfer } from './grpc-codec.js';
import { GRPC_STATUS } from './grpc-status.js';
import { loadInferenceService } from './inference-proto.js';
import type { RequestTracer } from '../../telemetry/request-tracer.js';
import { NO_TRACER } from '../../telemetry/request-tracer.js';
import { RequestRecord, inRequest, requestIdFrom } from '../../telemetry/request-scope.js';

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  /** Largest message received or sent; beyond it grpc-js answers RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** When set, every RPC but the health ones needs metadata `authorization: Bearer <token>`. */
  readonly authToken?: string | undefined;
  /** One log line per call (default true). */
  readonly accessLog?: boolean | undefined;
  /** A server span per call (default: none). */
  readonly tracer?: RequestTracer | undefined;
}

export interface RunningGrpcServer {
  readonly port: number;
  /** Stops taking calls, lets calls in flight finish (at most SHUTDOWN_GRACE_MS), then closes. */
  close(): Promise<void>;
}

interface ModelRef {
  name?: string;
  version?: string;
}

/** Fields that name a model in the service's requests: `name` (metadata, ready) or `model_name` (infer). */
interface NamesModel {
  name?: unknown;
  model_name?: unknown;
}

interface RepositoryRequest {
  repository_name?: string;
  model_name?: string;
  ready?: boolean;
  parameters?: Record<string, unknown>;
}

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

const SHUTDOWN_GRACE_MS = 30_000;

/**
 * Open Inference Protocol v2 over gRPC (`inference.GRPCInferenceService`) on its own port. Like the REST
 * adapter it only converts messages and calls the InferenceService; errors map through GRPC_STATUS.
 */
export async function startGrpcServer(
  service: InferenceService,
  options: GrpcServerOptions,
): Promise<RunningGrpcServer> {
  // grpc-js writes its own lines to stderr (e.g. on a taken port); route them into our log instead.
  setLogger({
    error: (...args: unknown[]) => options.logger.debug('grpc-js', { message: args.map(String).join(' ') }),
  });
  const { logger } = options;
  const tracer = options.tracer ?? NO_TRACER;
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
  });
  /** Request id, response header, span: everything one call needs before its handler runs. */
  const begin = (rpc: string, call: ServerUnaryCall<unknown, unknown>): RequestRecord => {
    const id = requestIdFrom(call.metadata.get(REQUEST_ID_KEY)[0]);
    const headers = new Metadata();
    headers.set(REQUEST_ID_KEY, id);
    call.sendMetadata(headers);
    const span = UNTRACED_RPCS.has(rpc)
      ? NO_TRACER.startRequest('', {}, {})
      : tracer.startRequest(
          `${SERVICE_NAME}/${rpc}`,
          {
            traceparent: textOf(call.metadata, 'traceparent'),
            tracestate: textOf(call.metadata, 'tracestate'),
          },
          {
            'rpc.system': 'grpc',
            'rpc.service': SERVICE_NAME,
            'rpc.method': rpc,
            'skiff.request_id': id,
            'skiff.protocol': 'open-inference-v2-grpc',
          },
        );
    return new RequestRecord(id, span);
  };
  /** The access line and the end of the span, once the answer (or error) is handed to grpc-js. */
  const end = (rpc: string, record: RequestRecord, request: unknown, code: Status): void => {
    const fields = record.modelFields(requestedModel(request));
    if (options.accessLog !== false) {
      logger.info('request', {
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
  };
  const unary =
    <Req, Res>(rpc: string, handle: (request: Req) => Res | Promise<Res>): handleUnaryCall<Req, Res> =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const record = begin(rpc, call);
      inRequest(record, () => {
        void (async () => {
          try {
            if (rpc !== 'ServerLive') authorize(call.metadata);
            const response = await handle(call.request);
            // A client that cancelled (or timed out) while the call ran never gets the answer.
            end(rpc, record, call.request, call.cancelled ? Status.CANCELLED : Status.OK);
            callback(null, response);
          } catch (error) {
            const failure = toServiceError(error, rpc, record.id, logger);
            end(rpc, record, call.request, failure.code);
            callback(failure);
          }
        })();
      });
    };
  const expected =
    options.authToken === undefined ? undefined : createHash('sha256').update(options.authToken).digest();
  const authorize = (metadata: Metadata): void => {
    if (expected === undefined) return;
    const header = String(metadata.get('authorization')[0] ?? '');
    const given = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? '';
    if (!timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
      throw new SkiffError(
        'SKIFF_UNAUTHENTICATED',
        header === ''
          ? 'this server needs metadata "authorization: Bearer <token>"'
          : 'the bearer token is not valid',
      );
    }
  };
  const readiness =
    (rpc: string, check: (request: ModelRef) => { ready: boolean; reason: string | undefined }) =>
    (call: ServerUnaryCall<ModelRef, { ready: boolean }>, callback: sendUnaryData<{ ready: boolean }>) => {
      const record = begin(rpc, call);
      try {
        const { ready, reason } = check(call.request);
        const trailer = new Metadata();
        if (!ready && reason !== undefined) trailer.set(NOT_READY_REASON_KEY, asciiHeader(reason));
        end(rpc, record, call.request, Status.OK);
        callback(null, { ready }, trailer);
      } catch (error) {
        const failure = toServiceError(error, rpc, record.id, logger);
        end(rpc, record, call.request, failure.code);
        callback(failure);
      }
    };
  const repositoryCall = <Res>(
    rpc: string,
    handle: (request: RepositoryRequest) => Promise<Res>,
  ): handleUnaryCall<RepositoryRequest, Res> =>
    unary(rpc, (request: RepositoryRequest) => {
      if ((request.repository_name ?? '') !== '') {
        throw new SkiffError(
          'SKIFF_MODEL_NOT_FOUND',
          `no repository named "${request.repository_name ?? ''}"; Skiff has one: leave repository_name empty`,
        );
      }
      return handle(request);
    });

  server.addService(loadInferenceService(), {
    ServerLive: unary('ServerLive', () => ({ live: service.live() })),
    ServerReady: readiness('ServerReady', () => ({
      ready: service.ready(),
      reason: service.notReadyReason(),
    })),
    ModelReady: readiness('ModelReady', (request) =>
      service.modelReadiness(modelName(request), versionOf(request)),
    ),
    ServerMetadata: unary('ServerMetadata', () => service.serverMetadata()),
    ModelMetadata: unary('ModelMetadata', (request: ModelRef) =>
      service.modelMetadata(modelName(request), versionOf(request)),
    ),
    ModelInfer: unary(
      'ModelInfer',
      async (request: ModelInferRequestMessage): Promise<ModelInferResponseMessage> => {
        const decoded = decodeModelInfer(request, service.limits.maxTensorElements);
        const response = await service.inferTensors(decoded.request);
        return encodeModelInfer(response, decoded.typedOutputs);
      },
    ),
    RepositoryIndex: repositoryCall('RepositoryIndex', async (request) => {
      const entries = await service.repositoryIndex();
      return {
        models: entries
          .filter((entry) => request.ready !== true || entry.state === 'READY')
          .map(({ name, version, state, reason }) => ({ name, version: version ?? '', state, reason })),
      };
    }),
    RepositoryModelLoad: repositoryCall('RepositoryModelLoad', async (request) => {
      // Triton's load parameters replace the model's config or files; Skiff loads what the repository holds.
      const given = Object.keys(request.parameters ?? {});
      if (given.length > 0) {
        throw new SkiffError(
          'SKIFF_BAD_PARAMETER',
          `RepositoryModelLoad takes no parameters (got ${given.join(', ')}); Skiff loads the model as the repository holds it`,
        );
      }
      await service.loadModel(repositoryModel(request));
      return {};
    }),
    RepositoryModelUnload: repositoryCall('RepositoryModelUnload', async (request) => {
      await service.unloadModel(repositoryModel(request));
      return {};
    }),
  });

  const address = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) => {
      if (error === null) {
        resolve(bound);
        return;
      }
      reject(
        /EADDRINUSE/.test(error.message)
          ? new SkiffError(
              'SKIFF_PORT_IN_USE',
              `gRPC port ${options.port} on ${options.host} is already in use; choose another with --grpc-port (-1 turns gRPC off)`,
              { cause: error },
            )
          : new SkiffError('SKIFF_LISTEN_FAILED', `cannot listen for gRPC on ${address}: ${error.message}`, {
              cause: error,
            }),
      );
    });
  });
  logger.info('gRPC listening', { address: `${options.host}:${port}` });

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

function modelName(request: ModelRef): string {
  const name = request.name ?? '';
  if (name === '') throw new SkiffError('SKIFF_BAD_REQUEST', 'name (the model name) is required');
  return name;
}

function repositoryModel(request: RepositoryRequest): string {
  const name = request.model_name ?? '';
  if (name === '') throw new SkiffError('SKIFF_BAD_REQUEST', 'model_name is required');
  return name;
}

function versionOf(request: ModelRef): string | undefined {
  return request.version === undefined || request.version === '' ? undefined : request.version;
}

function toServiceError(
  error: unknown,
  rpc: string,
  requestId: string,
  logger: Logger,
): ServerErrorResponse & { code: Status } {
  const skiff = toSkiffError(error);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, skiff.code);
  let message = skiff.message;
  if (skiff.kind === 'internal') {
    logger.error('gRPC call failed', {
      rpc,
      requestId,
      code: skiff.code,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      cause: error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined,
    });
    message = `internal error (request ${requestId}); see the server log`;
  } else {
    logger.debug('gRPC call refused', { rpc, requestId, code: skiff.code, message });
  }
  return Object.assign(new Error(message), { code: GRPC_STATUS[skiff.kind], details: message, metadata });
}

function textOf(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

function requestedModel(request: unknown): string | undefined {
  if (request === null || typeof request !== 'object') return undefined;
  const { name, model_name } = request as NamesModel;
  const model = typeof model_name === 'string' ? model_name : name;
  return typeof model === 'string' && model !== '' ? model : undefined;
}

// Metadata values must be printable ASCII; a model path or label may not be.
function asciiHeader(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 1024);
}
