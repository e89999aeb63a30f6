import type { Logger } from '../../core/logger.js';
import { resolveTracing } from '../../config/tracing-settings.js';
import { modelPathIfAtHand, resolveCacheDir } from '../../store/resolve-model-source.js';
import { PreloadingRuntime } from '../../core/model/preloading-runtime.js';
import type { StopSignal } from '../../host/exit-process.js';
import { endWithSignal, exitProcess, stoppingOnSignal } from '../../host/exit-process.js';
import type { CommandIo } from '../command-spec.js';
import { SERVE_COMMAND } from '../command-table.js';
import { readCommand } from '../read-command.js';
import { runtimeLoadOptions } from '../../config/shared-options.js';
import { widenHeapGrowth } from '../../host/heap-growth.js';

/**
 * `skiff serve`: runs until SIGTERM/SIGINT, then ends the process itself (returns only for --help). Start-up
 * errors propagate as SkiffError.
 */
export async function serveCommand(io: CommandIo): Promise<number> {
  const config = readCommand(SERVE_COMMAND, io);
  if (config === undefined) return 0;
  widenHeapGrowth();
  // Logs go to stderr, as they always have: stdout stays free for a command's own output. pino is loaded
  // here, not at the top, so that the other commands (which all share main.ts) do not pay for it.
  const { createPinoLogger } = await import('../../log/pino-logger.js');
  const logger: Logger = createPinoLogger({
    write: io.stderr,
    format: config.logFormat === 'auto' ? (io.stderrIsTty ? 'pretty' : 'json') : config.logFormat,
    level: config.logLevel ?? (config.verbose ? 'debug' : 'info'),
  });
  const tracing = resolveTracing(config, io.env);
  const cacheDir = config.cacheDir ?? resolveCacheDir(io.env);
  // A synchronous stat(), so before the signal handlers: should a hung mount block it, SIGTERM still kills.
  const atHand =
    config.modelRepository === undefined ? modelPathIfAtHand(config.model, { cacheDir }) : undefined;
  // Signals are taken from the start: during start-up one stops the process at once; once serving, the
  // handler below drains. Installing it only after "ready" is logged would race a fast orchestrator.
  // During start-up there is nothing to finish, and a model load or a file read may be stuck in native
  // code, which process.exit() would wait for: the process ends by the signal itself (status 143 or 130).
  let onSignal = (signal: StopSignal): void => {
    logger.warn(`${signal} during start-up: exiting`);
    void endWithSignal(signal);
  };
  const handler = (signal: StopSignal): void => {
    onSignal(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  // The model's workers start creating their sessions now, while the main thread goes on to import the HTTP
  // and gRPC stacks: on a multi-core machine the two overlap instead of adding up (about 0.3 s of cold start).
  // Loaded only here so that build/deploy commands never load the ONNX addon.
  const { createOnnxRuntime } = await import('../../runtimes/onnx/create-onnx-runtime.js');
  // The workers decode uploads with sharp, which they import themselves.
  const runtime = new PreloadingRuntime(
    createOnnxRuntime({ logger, cacheDir, graphCache: config.graphCache, decodeImages: true }),
  );
  if (atHand !== undefined) runtime.preload(atHand, runtimeLoadOptions(config));
  const { startServer } = await import('../../server.js');
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      config,
      cacheDir,
      logger,
      progress: io.stderrIsTty,
      tracing,
      runtime,
    });
  } finally {
    await runtime.dispose();
  }
  const t = server.startup;
  const took = t.durationsMs;
  // Ends the process itself (exit-process.ts): by then a thread may be stuck in a native call for good (a model
  // that never finished loading), which would hold process.exit() for ever. Such threads get what is left of
  // the grace to end; then the process ends by the signal that stopped it.
  return new Promise<number>(() => {
    let stopping = false;
    let graceEndsAt = Infinity;
    const end = (code: number): void => {
      const waitMs = Math.max(0, Math.min(EXIT_WAIT_MS, graceEndsAt - performance.now()));
      void exitProcess(code, { waitMs, log: (message) => logger.error(message) });
    };
    const stop = (signal: StopSignal): void => {
      stoppingOnSignal(signal);
      if (stopping) {
        logger.warn(`second ${signal}: exiting now`);
        graceEndsAt = 0;
        end(130);
        return;
      }
      stopping = true;
      // Readiness goes false at once; serving goes on through the drain delay so that endpoint updates reach
      // every load balancer before the listeners close. Ctrl-C at a terminal skips the delay.
      server.service.startDraining();
      const delayMs = signal === 'SIGINT' ? 0 : config.drainDelayMs;
      logger.info(
        `${signal}: not ready; serving for ${delayMs} ms more, then finishing requests in flight (at most ${config.shutdownTimeoutMs} ms)`,
      );
      graceEndsAt = performance.now() + delayMs + config.shutdownTimeoutMs;
      const deadline = setTimeout(() => {
        logger.error(
          `requests still running after the ${config.shutdownTimeoutMs} ms shutdown timeout; exiting`,
        );
        end(1);
      }, delayMs + config.shutdownTimeoutMs);
      deadline.unref();
      new Promise((wait) => setTimeout(wait, delayMs))
        .then(() => server.close())
        .then(
          () => {
            clearTimeout(deadline);
            logger.info('all requests finished; exiting');
            end(0);
          },
          (error: unknown) => {
            clearTimeout(deadline);
            logger.error('error while shutting down', {
              error: error instanceof Error ? error.message : String(error),
            });
            end(1);
          },
        );
    };
    onSignal = stop;
    logger.info(
      `ready in ${(t.phasesMs.ready / 1000).toFixed(2)} s: process start to config ${ms(took.config)}, model fetch ${ms(took.model_fetch)}, ` +
        `session create ${ms(took.session_create)}, warm-up ${ms(took.warm_up)}` +
        (t.inWorkers === undefined
          ? ''
          : ` (the model's workers: session ${ms(t.inWorkers.sessionCreateMs)}, warm-up ${ms(t.inWorkers.warmUpMs)}, while the rest started)`),
      { url: server.url },
    );
  });
}

/** Longest a shutdown waits, within its grace, for threads stuck in native calls before ending by signal. */
const EXIT_WAIT_MS = 1000;

function ms(value: number): string {
  return `${Math.max(0, Math.round(value))} ms`;
}
