// The composition root: the one place that picks concrete classes and wires them together.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ServeConfig } from './config/serve-options.js';
import type { Logger } from './core/logger.js';
import type { Labels } from './core/model/labels.js';
import type { ModelConfigFile } from './core/model/model-config.js';
import type { InstanceLoadTimings, Runtime } from './core/model/runtime.js';
import type { InferenceObserver } from './core/inference-observer.js';
import type { TracingSettings } from './config/tracing-settings.js';
import type { RequestLimits } from './core/request/request-limits.js';
import type { RequestTracer } from './telemetry/request-tracer.js';
import { observeAll } from './core/inference-observer.js';
import { NO_TRACER } from './telemetry/request-tracer.js';
import { requestObserver } from './telemetry/request-scope.js';
import { InferenceService } from './core/inference-service.js';
import { InferenceStatistics } from './core/statistics/inference-statistics.js';
import { ServedModels } from './core/registry/served-models.js';
import { StartupRecorder } from './core/startup-recorder.js';
import { ServedModel } from './core/registry/served-model.js';
import { SkiffError } from './core/errors.js';
import { labelsFromList, parseLabels } from './core/model/labels.js';
import { readModelConfig, parseModelConfig } from './config/model-config-file.js';
import { resolveModelSource } from './store/resolve-model-source.js';
import { findZooEntry } from './store/zoo.js';
import { buildHttpApp } from './adapters/http/http-app.js';
import { createOnnxRuntime } from './runtimes/onnx/create-onnx-runtime.js';
import { PrometheusMetrics } from './adapters/metrics/prometheus-metrics.js';
import { ModelRepository } from './core/registry/model-repository.js';
import { FileModelRepository } from './store/file-model-repository.js';
import { readRegularFile } from './host/regular-file.js';
import { SharpImageCodec } from './runtimes/sharp/sharp-image-codec.js';
import { DecodePool } from './adapters/decode/decode-pool.js';

export const SKIFF_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Most predictions one request may ask for; more would only be a bigger response. */
export const MAX_TOP_K = 1000;

/** Connections waiting to be accepted (bounded by the kernel's net.core.somaxconn). */
const LISTEN_BACKLOG = 4096;

/** Bodies below this are decoded on the event loop (a millisecond or so); larger ones in the decode worker. */
const DECODE_INLINE_BELOW_BYTES = 64 * 1024;
/** Large bodies waiting for the decode worker, each held whole meanwhile; beyond it a fast 503. */
const DECODE_MAX_WAITING = 4;

/** Every per-request limit, from the options that set them (docs/config.md). */
export function requestLimits(config: ServeConfig): RequestLimits {
  return {
    maxImagePixels: config.maxImagePixels,
    maxDecodePixels: config.maxDecodePixels,
    maxTopK: MAX_TOP_K,
    maxTensorElements: config.maxTensorElements,
    maxRequestElements: config.maxRequestElements,
    maxBytesElements: config.maxBytesElements,
    maxResponseBytes: config.maxResponseBytes,
    maxInstances: config.maxInstances,
    maxJsonDepth: config.maxJsonDepth,
  };
}

export interface StartupTimings {
  /** Milliseconds from process start to the configuration being read. */
  readonly configMs: number;
  /** Milliseconds spent finding, downloading and verifying the model, config and labels. */
  readonly fetchMs: number;
  /** What remained of creating the model's sessions once the server was otherwise ready to wait for it. */
  readonly sessionCreateMs: number;
  readonly warmUpMs: number;
  readonly readyMs: number;
  /** The model workers' own measure of creating their sessions and warming up, overlapped or not. */
  readonly inWorkers?: InstanceLoadTimings | undefined;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** The gRPC port, or undefined when gRPC is off. */
  readonly grpcPort: number | undefined;
  readonly service: InferenceService;
  readonly timings: StartupTimings;
  /** Stops taking connections, lets requests in flight finish, then unloads the models. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly config: ServeConfig;
  readonly cacheDir: string;
  readonly logger: Logger;
  /** Show a download progress bar (a TTY). */
  readonly progress: boolean;
  /** Milliseconds since process start; injected so tests can start many servers in one process. */
  readonly sinceStart: () => number;
  readonly runtime?: Runtime;
  /** OpenTelemetry export; absent: tracing off, and the SDK is never loaded. */
  readonly tracing?: TracingSettings | undefined;
}

/** What every listener and model shares: the models, metrics, the per-request observer and the tracer. */
interface Telemetry {
  readonly models: ServedModels;
  readonly statistics: InferenceStatistics;
  readonly metrics: PrometheusMetrics;
  readonly observer: InferenceObserver;
  readonly tracer: RequestTracer;
}

/**
 * Starts `skiff serve`: resolves the model (downloading it if need be), listens at once so liveness answers
 * during a long load, then loads and warms the model; readiness turns true only after that. Throws a
 * SkiffError for any start-up problem, after releasing whatever it had opened.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config, logger } = options;
  const configMs = options.sinceStart();
  if (config.maxDecodePixels < config.maxImagePixels) {
    throw new SkiffError(
      'SKIFF_CONFIG_INVALID',
      `--max-decode-pixels (${config.maxDecodePixels}) must be at least --max-image-pixels (${config.maxImagePixels}), or the largest images could never be decoded`,
    );
  }
  const runtime =
    options.runtime ??
    createOnnxRuntime({
      logger,
      cacheDir: options.cacheDir,
      graphCache: config.graphCache,
      decodeImages: true,
    });
  const models = new ServedModels();
  const statistics = new InferenceStatistics();
  const metrics = new PrometheusMetrics(models);
  const telemetry: Telemetry = {
    models,
    statistics,
    metrics,
    observer: observeAll([metrics, requestObserver, statistics]),
    tracer: await startTracer(options),
  };
  if (config.modelRepository !== undefined)
    return startRepository(options, runtime, telemetry, config.modelRepository, configMs);
  const startup = new StartupRecorder(options.sinceStart);
  const service = new InferenceService(new SharpImageCodec(), requestLimits(config), {
    server: { name: 'skiff', version: SKIFF_VERSION },
    models,
    statistics,
    startup,
  });

  const prepare = async (): Promise<ServedModel> => {
    startup.doing(`fetching model ${config.model}`);
    const source = await resolveModelSource(config.model, {
      cacheDir: options.cacheDir,
      sha256: config.modelSha256,
      zooBaseUrl: config.zooBaseUrl,
      progress: options.progress,
      fileTimeoutMs: config.modelLoadTimeoutMs,
    });
    startup.doing('reading the model config and labels');
    const modelConfigPath = config.config ?? source.configPath;
    const fileConfig: ModelConfigFile =
      modelConfigPath !== undefined
        ? await readModelConfig(modelConfigPath, { timeoutMs: config.modelLoadTimeoutMs })
        : parseModelConfig(source.config ?? {}, `zoo entry ${config.model}`);
    const labels = await loadLabels(config, fileConfig, modelConfigPath, source.labelsPath);
    return new ServedModel({
      name: config.name ?? fileConfig.name ?? source.defaultName,
      modelPath: source.modelPath,
      config: fileConfig,
      labels,
      runtimeOptions: { workers: config.workers, threadsPerWorker: config.threadsPerWorker },
      maxQueueSize: config.maxQueueSize,
      loadTimeoutMs: config.modelLoadTimeoutMs,
      observer: telemetry.observer,
    });
  };

  // A local model is checked before listening, so a typo fails fast with nothing else printed. A remote
  // one may take minutes to fetch: listen first, so liveness answers and readiness says why not.
  const remote = /^https?:\/\//i.test(config.model) || findZooEntry(config.model) !== undefined;
  let model: ServedModel | undefined;
  try {
    model = remote ? undefined : await prepare();
  } catch (error) {
    await telemetry.tracer.shutdown();
    throw error;
  }
  const fetchedMs = options.sinceStart();
  const listeners = await openListeners(
    options,
    service,
    telemetry,
    remote ? 'listening; fetching the model' : 'listening; loading the model',
  );
  let fetchMs = fetchedMs - configMs;
  try {
    if (model === undefined) {
      model = await prepare();
      fetchMs = options.sinceStart() - listeners.listenMs;
    }
    models.add(model);
    await model.load(runtime, options.sinceStart);
  } catch (error) {
    await listeners.close();
    throw error;
  }
  if (!model.classifier.ok)
    logger.warn('the model does not take images; /predict will refuse', { reason: model.classifier.reason });
  return running(
    service,
    listeners,
    {
      configMs,
      fetchMs,
      sessionCreateMs: model.timings?.sessionCreateMs ?? 0,
      warmUpMs: model.timings?.warmUpMs ?? 0,
      readyMs: options.sinceStart(),
      inWorkers: model.timings?.inRuntime,
    },
    metrics,
  );
}

/** The OpenTelemetry tracer when tracing is on; its SDK is imported only then (it adds start-up time). */
async function startTracer(options: StartOptions): Promise<RequestTracer> {
  const tracing = options.tracing;
  if (tracing === undefined) return NO_TRACER;
  const { startOtelTracer } = await import('./telemetry/otel-tracer.js');
  options.logger.info('tracing on', {
    otlp: tracing.tracesUrl,
    serviceName: tracing.serviceName,
    from: tracing.source,
  });
  return startOtelTracer({
    tracesUrl: tracing.tracesUrl,
    serviceName: tracing.serviceName,
    serviceVersion: SKIFF_VERSION,
    logger: options.logger,
  });
}

/** `--model-repository`: every model in the folder, each failing or succeeding on its own. */
async function startRepository(
  options: StartOptions,
  runtime: Runtime,
  telemetry: Telemetry,
  dir: string,
  configMs: number,
): Promise<RunningServer> {
  const { config, logger } = options;
  const source = new FileModelRepository(path.resolve(dir), { fileTimeoutMs: config.modelLoadTimeoutMs });
  const names = await source.listNames();
  if (names.length === 0)
    throw new SkiffError('SKIFF_MODEL_FILE_MISSING', `the model repository ${dir} holds no model folders`);
  const startup = new StartupRecorder(options.sinceStart);
  const repository = new ModelRepository(source, telemetry.models, runtime, {
    runtimeOptions: { workers: config.workers, threadsPerWorker: config.threadsPerWorker },
    maxQueueSize: config.maxQueueSize,
    loadTimeoutMs: config.modelLoadTimeoutMs,
    observer: telemetry.observer,
    logger,
    now: options.sinceStart,
  });
  const service = new InferenceService(new SharpImageCodec(), requestLimits(config), {
    server: { name: 'skiff', version: SKIFF_VERSION },
    models: telemetry.models,
    statistics: telemetry.statistics,
    startup,
    failedModelsBlockReadiness: config.strictReadiness,
    repository: { source: repository, apiEnabled: config.repositoryApi },
  });
  startup.doing(`loading ${names.length} models from ${dir}`);
  const listeners = await openListeners(
    options,
    service,
    telemetry,
    'listening; loading the model repository',
  );
  const started = options.sinceStart();
  await repository.loadAll();
  const failed = service.list().filter((m) => m.state === 'failed');
  for (const model of failed)
    logger.error('model not served', {
      model: model.name,
      error: model.failure instanceof Error ? model.failure.message : String(model.failure),
    });
  return running(
    service,
    listeners,
    {
      configMs,
      fetchMs: 0,
      sessionCreateMs: options.sinceStart() - started,
      warmUpMs: 0,
      readyMs: options.sinceStart(),
    },
    telemetry.metrics,
  );
}

interface Listeners {
  readonly url: string;
  readonly port: number;
  readonly grpcPort: number | undefined;
  readonly listenMs: number;
  close(): Promise<void>;
}

async function openListeners(
  options: StartOptions,
  service: InferenceService,
  telemetry: Telemetry,
  message: string,
): Promise<Listeners> {
  const { config, logger } = options;
  const { metrics, tracer } = telemetry;
  const decoder = new DecodePool({
    limits: service.limits,
    logger,
    inlineBelowBytes: DECODE_INLINE_BELOW_BYTES,
    memoryMb: config.decodeMemoryMb,
    maxWaiting: DECODE_MAX_WAITING,
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
    listenMs: options.sinceStart(),
    // The tracer goes last: spans of the requests that were still finishing are flushed too.
    close: async () => {
      await Promise.all([app.close(), grpc?.close()]);
      await decoder.close();
      await tracer.shutdown();
    },
  };
}

function running(
  service: InferenceService,
  listeners: Listeners,
  timings: StartupTimings,
  metrics: PrometheusMetrics,
): RunningServer {
  metrics.startupPhases({
    config: timings.configMs,
    model_fetch: timings.configMs + timings.fetchMs,
    session_create: timings.configMs + timings.fetchMs + timings.sessionCreateMs,
    warm_up: timings.configMs + timings.fetchMs + timings.sessionCreateMs + timings.warmUpMs,
    ready: timings.readyMs,
  });
  return {
    url: listeners.url,
    port: listeners.port,
    grpcPort: listeners.grpcPort,
    service,
    timings,
    close: async () => {
      service.startDraining();
      await listeners.close();
      await Promise.all(service.list().map((m) => m.unload()));
    },
  };
}

async function loadLabels(
  config: ServeConfig,
  fileConfig: ModelConfigFile,
  modelConfigPath: string | undefined,
  sourceLabels: string | undefined,
): Promise<Labels | undefined> {
  const timeoutMs = config.modelLoadTimeoutMs;
  if (config.labels !== undefined) return readLabels(config.labels, timeoutMs);
  const fromConfig = fileConfig.labels;
  if (Array.isArray(fromConfig)) return labelsFromList(fromConfig);
  if (typeof fromConfig === 'string') {
    const base = modelConfigPath === undefined ? process.cwd() : path.dirname(modelConfigPath);
    return readLabels(path.resolve(base, fromConfig), timeoutMs);
  }
  return sourceLabels === undefined ? undefined : readLabels(sourceLabels, timeoutMs);
}

async function readLabels(file: string, timeoutMs: number): Promise<Labels> {
  const bytes = await readRegularFile(file, { code: 'SKIFF_LABELS_INVALID', what: 'labels file', timeoutMs });
  return parseLabels(bytes.toString('utf8'), file);
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
