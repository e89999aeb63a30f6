import { Server, ServerCredentials, setLogger } from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/grpc-js';
import type { InferenceService } from '../../core/inference-service.js';
import { DecodePool } from '../decode/decode-pool.js';
import type { Logger } from '../../core/logger.js';
import type { RequestTracer } from '../../telemetry/request-tracer.js';
import type { ModelInferRequestMessage } from './grpc-codec.js';
import { SkiffError } from '../../core/errors.js';
import { NO_TRACER } from '../../telemetry/request-tracer.js';
import { loadInferenceService } from './inference-proto.js';
import { grpcHandlers } from './grpc-handlers.js';
import { RawMessage } from './raw-message.js';
import { GRPC_FLOW_WINDOW_BYTES, widenFlowWindows } from './widen-flow-windows.js';

export { ERROR_CODE_KEY, NOT_READY_REASON_KEY, REQUEST_ID_KEY } from './grpc-call.js';

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  /** Largest message received or sent; beyond it grpc-js answers RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** Calls one connection may have open at once (HTTP/2 streams). */
  readonly maxConcurrentStreams?: number | undefined;
  /** The server's bound on one call, queue included (0: none); a call's own deadline may be earlier. */
  readonly requestTimeoutMs?: number | undefined;
  /** Where ModelInfer bodies become tensors (shared with the HTTP adapter); absent: one of its own. */
  readonly decoder?: DecodePool | undefined;
  /** When set, every RPC but ServerLive needs metadata `authorization: Bearer <token>`. */
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

const SHUTDOWN_GRACE_MS = 30_000;

/**
 * Open Inference Protocol v2 over gRPC (`inference.GRPCInferenceService`) on its own port. Like the REST
 * adapter it only converts messages (grpc-handlers.ts) around the common call lifecycle (grpc-call.ts).
 */
export async function startGrpcServer(
  service: InferenceService,
  options: GrpcServerOptions,
): Promise<RunningGrpcServer> {
  // A server of its own (tests) decodes with a pool of its own, closed with it.
  const decoder =
    options.decoder ??
    new DecodePool({
      limits: service.limits,
      logger: options.logger,
      inlineBelowBytes: 256 * 1024,
      memoryMb: 256,
      maxWaitingBytes: 4 * options.maxMessageBytes,
    });
  const ownDecoder = options.decoder === undefined;
  // grpc-js writes its own lines to stderr (e.g. on a taken port); route them into our log instead.
  setLogger({
    error: (...args: unknown[]) => options.logger.debug('grpc-js', { message: args.map(String).join(' ') }),
  });
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    'grpc.max_concurrent_streams': options.maxConcurrentStreams ?? 32,
  });
  const windows = widenFlowWindows(server, GRPC_FLOW_WINDOW_BYTES);
  const definition = loadInferenceService();
  // ModelInfer arrives undecoded (RawMessage): its handler counts what it holds before decoding it.
  const infer = definition.ModelInfer as MethodDefinition<ModelInferRequestMessage, unknown> | undefined;
  if (infer === undefined) throw new Error('grpc_predict_v2.proto defines no ModelInfer');
  const deserialize = infer.requestDeserialize;
  decoder.useProtobuf((bytes) => deserialize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
  const rawInfer = {
    ...infer,
    requestDeserialize: (bytes: Buffer) => new RawMessage(bytes),
  } as unknown as MethodDefinition<unknown, unknown>;
  server.addService(
    { ...definition, ModelInfer: rawInfer },
    grpcHandlers(service, decoder, {
      logger: options.logger,
      accessLog: options.accessLog !== false,
      tracer: options.tracer ?? NO_TRACER,
      authToken: options.authToken,
      requestTimeoutMs: options.requestTimeoutMs ?? 0,
    }),
  );

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
  const connections = windows.afterBind();
  if (!windows.streams || !connections) {
    options.logger.warn('gRPC flow-control windows left at 64 KiB: this grpc-js has no field to set them', {
      streams: windows.streams,
      connections,
    });
  }
  options.logger.info('gRPC listening', { address: `${options.host}:${port}` });

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
      }).then(async () => {
        if (ownDecoder) await decoder.close();
      }),
  };
}
