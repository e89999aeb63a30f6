import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ServeConfig } from './config/serve-options.js';
import type { Logger } from './core/logger.js';
import type { InferenceService } from './core/inference-service.js';
import type { RequestTracer } from './telemetry/request-tracer.js';
import type { PrometheusMetrics } from './adapters/metrics/prometheus-metrics.js';
import { SkiffError } from './core/errors.js';
import { buildHttpApp } from './adapters/http/http-app.js';
import { DecodePool } from './adapters/decode/decode-pool.js';

/** Connections waiting to be accepted (bounded by the kernel's net.core.somaxconn). */
const LISTEN_BACKLOG = 4096;

/** Bodies below this are decoded on the event loop (a millisecond or so); larger ones in the decode worker. */
const DECODE_INLINE_BELOW_BYTES = 64 * 1024;
/**
 * Large bodies waiting for the decode worker are each held whole meanwhile: together they may hold four
 * bodies of the largest size accepted (80 MiB with the defaults); a body beyond that gets a fast 503.
 */
const DECODE_WAITING_BODIES = 4;

export interface Listeners {
  readonly url: string;
  readonly port: number;
  /** The gRPC port, or undefined when gRPC is off. */
  readonly grpcPort: number | undefined;
  /** Stops taking connections and lets requests in flight finish; then flushes the tracer. */
  close(): Promise<void>;
}

export interface ListenerParts {
  readonly config: ServeConfig;
  readonly logger: Logger;
  readonly service: InferenceService;
  readonly metrics: PrometheusMetrics;
  readonly tracer: RequestTracer;
}

/**
 * Opens HTTP (and gRPC unless it is off) on the service, then logs `message` with the URL. Throws
 * SKIFF_PORT_IN_USE or SKIFF_LISTEN_FAILED after closing whatever it had opened, the tracer included.
 */
export async function openListeners(parts: ListenerParts, message: string): Promise<Listeners> {
  const { config, logger, service, metrics, tracer } = parts;
  const decoder = new DecodePool({
    limits: service.limits,
    logger,
    inlineBelowBytes: DECODE_INLINE_BELOW_BYTES,
    memoryMb: config.decodeMemoryMb,
    maxWaitingBytes: DECODE_WAITING_BODIES * config.maxBodyBytes,
  });
  const app = await buildHttpApp({
    service,
    decoder,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    defaultTopK: config.topK,
    headersTimeoutMs: config.headersTimeoutMs,
    bodyTimeoutMs: config.bodyTimeoutMs,
    maxHeaderBytes: config.maxHeaderBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    maxUrlBytes: config.maxUrlBytes,
    maxPipelinedRequests: config.maxPipelinedRequests,
    authToken: config.authToken,
    accessLog: config.accessLog,
    metrics,
    tracer,
    ui: config.ui ? { samplesDir: config.uiSamples } : undefined,
  });
  let port: number;
  try {
    port = await listen(app, config.host, config.port);
  } catch (error) {
    await decoder.close();
    await tracer.shutdown();
    throw error;
  }
  let grpc: { port: number; close(): Promise<void> } | undefined;
  if (config.grpcPort >= 0) {
    try {
      // gRPC's stack (grpc-js, protobufjs, the parsed proto) is ~0.1 s of start-up: only loaded when it serves.
      const { startGrpcServer } = await import('./adapters/grpc/grpc-server.js');
      grpc = await startGrpcServer(service, {
        decoder,
        host: config.host,
        port: config.grpcPort,
        logger,
        maxMessageBytes: config.maxBodyBytes,
        maxConcurrentStreams: config.grpcMaxConcurrentStreams,
        requestTimeoutMs: config.requestTimeoutMs,
        authToken: config.authToken,
        accessLog: config.accessLog,
        tracer,
      });
    } catch (error) {
      await app.close();
      await decoder.close();
      await tracer.shutdown();
      throw error;
    }
  }
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info(message, {
    url,
    ...(grpc === undefined ? {} : { grpcPort: grpc.port }),
    model: config.modelRepository ?? config.model,
  });
  return {
    url,
    port,
    grpcPort: grpc?.port,
    // The tracer goes last: spans of the requests that were still finishing are flushed too.
    close: async () => {
      await Promise.all([app.close(), grpc?.close()]);
      await decoder.close();
      await tracer.shutdown();
    },
  };
}

async function listen(app: FastifyInstance, host: string, port: number): Promise<number> {
  try {
    // Node's default backlog (511) overflows when a load balancer or a burst opens hundreds of connections at
    // once, and every dropped SYN costs its client a second before it retries; the kernel caps it anyway.
    await app.listen({ host, port, backlog: LISTEN_BACKLOG });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new SkiffError(
        'SKIFF_PORT_IN_USE',
        `port ${port} on ${host} is already in use; choose another with --port`,
        { cause: error },
      );
    }
    throw new SkiffError('SKIFF_LISTEN_FAILED', `cannot listen on ${host}:${port} (${code ?? 'error'})`, {
      cause: error,
    });
  }
  return (app.server.address() as AddressInfo).port;
}
