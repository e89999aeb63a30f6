// The composition root: the one place that picks concrete classes and wires them together.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ServeConfig } from './config/serve-options.js';
import type { Logger } from './core/logger.js';
import type { Runtime } from './core/model/runtime.js';
import type { RepositorySource } from './core/registry/model-repository.js';
import type { StartupReport } from './core/startup-recorder.js';
import type { TracingSettings } from './config/tracing-settings.js';
import type { RequestLimits } from './core/request/request-limits.js';
import type { RequestTracer } from './telemetry/request-tracer.js';
import type { Listeners } from './open-listeners.js';
import { observeAll } from './core/inference-observer.js';
import { NO_TRACER } from './telemetry/request-tracer.js';
import { requestObserver } from './telemetry/request-scope.js';
import { InferenceService } from './core/inference-service.js';
import { InferenceStatistics } from './core/statistics/inference-statistics.js';
import { ServedModels } from './core/registry/served-models.js';
import { StartupRecorder } from './core/startup-recorder.js';
import { SkiffError } from './core/errors.js';
import { runtimeLoadOptions } from './config/shared-options.js';
import { SingleModelSource } from './store/single-model-source.js';
import { createOnnxRuntime } from './runtimes/onnx/create-onnx-runtime.js';
import { PrometheusMetrics } from './adapters/metrics/prometheus-metrics.js';
import { ModelRepository } from './core/registry/model-repository.js';
import { FileModelRepository, noModelFolders } from './store/file-model-repository.js';
import { createImageCodec } from './runtimes/sharp/sharp-image-codec.js';
import { openListeners } from './open-listeners.js';

export const SKIFF_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Most predictions one request may ask for; more would only be a bigger response. */
export const MAX_TOP_K = 1000;

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

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** The gRPC port, or undefined when gRPC is off. */
  readonly grpcPort: number | undefined;
  readonly service: InferenceService;
  /** How start-up went, for the start-up line (also exported as skiff_startup_phase_seconds). */
  readonly startup: StartupReport;
  /** Stops taking connections, lets requests in flight finish, then unloads the models. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly config: ServeConfig;
  readonly cacheDir: string;
  readonly logger: Logger;
  /** Show a download progress bar (a TTY). */
  readonly progress: boolean;
  readonly runtime?: Runtime;
  /** OpenTelemetry export; absent: tracing off, and the SDK is never loaded. */
  readonly tracing?: TracingSettings | undefined;
}

/** Where the models come from: `--model` is a repository of one entry, `--model-repository` a folder. */
interface ModelSource {
  readonly source: RepositorySource;
  /** The one model of `--model`: its failure stops start-up, and there is no repository API. */
  readonly single: boolean;
  /** Listen before resolving it: it may take minutes to fetch. */
  readonly remote: boolean;
  /** What readiness says start-up is doing while these models load; throws when there is nothing to load. */
  loading(names: readonly string[]): string | undefined;
}

/**
 * Starts `skiff serve`: resolves the models (downloading one if need be), listens at once so liveness answers
 * during a long load, then loads and warms them; readiness turns true only after that. Throws a SkiffError for
 * any start-up problem, after releasing whatever it had opened.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config, logger } = options;
  // Counts from process start: each start-up phase is reported as process start to its end.
  const now = (): number => performance.now();
  const startup = new StartupRecorder(now);
  startup.mark('config');
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
  const from = modelSource(options, startup);
  const repository = new ModelRepository(from.source, models, runtime, {
    runtimeOptions: runtimeLoadOptions(config),
    maxQueueSize: config.maxQueueSize,
    loadTimeoutMs: config.modelLoadTimeoutMs,
    observer: observeAll([metrics, requestObserver, statistics]),
    startup,
    logger,
    now,
  });
  const service = new InferenceService(createImageCodec(), requestLimits(config), {
    server: { name: 'skiff', version: SKIFF_VERSION },
    models,
    statistics,
    startup,
    failedModelsBlockReadiness: config.strictReadiness,
    repository: from.single ? undefined : { source: repository, apiEnabled: config.repositoryApi },
  });
  const tracer = await startTracer(options);
  // A local model is checked before listening, so a typo fails fast with nothing else printed. A remote
  // one may take minutes to fetch: listen first, so liveness answers and readiness says why not.
  if (!from.remote) {
    try {
      const activity = from.loading(await from.source.listNames());
      if (activity !== undefined) startup.doing(activity);
    } catch (error) {
      await tracer.shutdown();
      throw error;
    }
  }
  const listeners = await openListeners(
    { config, logger, service, metrics, tracer },
    from.remote
      ? 'listening; fetching the model'
      : from.single
        ? 'listening; loading the model'
        : 'listening; loading the model repository',
  );
  startup.mark('listen');
  try {
    await repository.loadAll();
    reportLoads(models, from.single, logger);
  } catch (error) {
    await listeners.close();
    throw error;
  }
  startup.mark('ready');
  const report = startup.report();
  metrics.startupPhases(report.phasesMs);
  return {
    url: listeners.url,
    port: listeners.port,
    grpcPort: listeners.grpcPort,
    service,
    startup: report,
    close: () => closeAll(service, listeners),
  };
}

function modelSource(options: StartOptions, startup: StartupRecorder): ModelSource {
  const { config } = options;
  const dir = config.modelRepository;
  if (dir === undefined) {
    const source = new SingleModelSource({
      model: config.model,
      name: config.name,
      configPath: config.config,
      labelsPath: config.labels,
      fetch: {
        cacheDir: options.cacheDir,
        sha256: config.modelSha256,
        zooBaseUrl: config.zooBaseUrl,
        progress: options.progress,
        fileTimeoutMs: config.modelLoadTimeoutMs,
      },
      startup,
    });
    return { source, single: true, remote: source.remote, loading: () => undefined };
  }
  const source = new FileModelRepository(path.resolve(dir), { fileTimeoutMs: config.modelLoadTimeoutMs });
  return {
    source,
    single: false,
    remote: false,
    loading: (names) => {
      if (names.length === 0) throw noModelFolders(dir);
      return `loading ${names.length} models from ${dir}`;
    },
  };
}

/**
 * After the first loads: the one model of `--model` must have loaded (its own error stops start-up); a
 * repository's failed models are logged and the others serve on.
 */
function reportLoads(models: ServedModels, single: boolean, logger: Logger): void {
  for (const model of models.list()) {
    if (model.state !== 'failed') {
      if (!model.classifier.ok)
        logger.warn('the model does not take images; /predict will refuse', {
          model: model.name,
          reason: model.classifier.reason,
        });
      continue;
    }
    if (single) throw model.failure;
    logger.error('model not served', {
      model: model.name,
      error: model.failure instanceof Error ? model.failure.message : String(model.failure),
    });
  }
}

async function closeAll(service: InferenceService, listeners: Listeners): Promise<void> {
  service.startDraining();
  await listeners.close();
  await Promise.all(service.list().map((m) => m.unload()));
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
