import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RunImageConfig } from '../../config/run-image-options.js';
import { SkiffError } from '../../core/errors.js';
import type { EngineRunOptions } from '../../deploy/image/engine-run.js';
import { engineRunArgs } from '../../deploy/image/engine-run.js';
import { findZooEntry, zooNames } from '../../store/zoo.js';
import { embeddedModelNames, findEmbeddedModel } from '../../store/embedded-models.js';
import type { CommandIo } from '../command-spec.js';
import { RUN_IMAGE_COMMAND } from '../command-table.js';
import { readCommand } from '../read-command.js';

type Env = Readonly<Record<string, string | undefined>>;

/** `skiff run-image`: in the foreground, exits with the container's exit code; with --detach, prints the URL. */
export async function runImageCommand(io: CommandIo): Promise<number> {
  const config = readCommand(RUN_IMAGE_COMMAND, io);
  if (config === undefined) return 0;
  const engine = config.engine ?? defaultEngine(io.env);
  const args = engineRunArgs({
    image: config.image,
    hostAddress: config.publishAddress,
    hostPort: config.port,
    model: resolveModel(config.model, io.cwd),
    labels: resolveLabels(config, io.cwd),
    name: config.containerName,
    detach: config.detach,
  });
  const url = `http://${config.publishAddress === '0.0.0.0' ? '127.0.0.1' : config.publishAddress}:${config.port}`;
  if (config.detach) {
    const { code, stdout } = await runEngine(engine, args, io.env, 'pipe', io.stderr);
    if (code !== 0) throw engineFailed(engine, code);
    const id = stdout.trim().slice(0, 12);
    io.stderr(
      `started ${id} with ${engine}; "${engine} logs ${config.containerName ?? id}", "${engine} stop ${config.containerName ?? id}"\n`,
    );
    io.stdout(`${url}\n`);
    return 0;
  }
  io.stderr(`skiff: ${url} (POST /predict) once ready; Ctrl-C or SIGTERM stops it after the drain\n`);
  const { code } = await runEngine(engine, args, io.env, 'inherit', io.stderr);
  return code ?? 1;
}

/** podman if it is on PATH, else docker (the error then names both). */
function defaultEngine(env: Env): 'podman' | 'docker' {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== '');
  return dirs.some((dir) => existsSync(path.join(dir, 'podman'))) ? 'podman' : 'docker';
}

function resolveModel(model: string | undefined, cwd: string): EngineRunOptions['model'] {
  if (model === undefined) return undefined;
  const local = path.resolve(cwd, model);
  if (existsSync(local)) return { local };
  if (
    /^https?:\/\//.test(model) ||
    findZooEntry(model) !== undefined ||
    findEmbeddedModel(model) !== undefined
  )
    return { fetch: model };
  throw new SkiffError(
    'SKIFF_MODEL_FILE_MISSING',
    `--model ${model}: no such file, and not a URL or a model name (shipped: ${embeddedModelNames().join(', ')}; zoo: ${zooNames().join(', ')})`,
  );
}

function resolveLabels(config: RunImageConfig, cwd: string): string | undefined {
  if (config.labels === undefined) return undefined;
  const labels = path.resolve(cwd, config.labels);
  if (!existsSync(labels))
    throw new SkiffError('SKIFF_MODEL_FILE_MISSING', `--labels ${config.labels}: no such file`);
  return labels;
}

function engineFailed(engine: string, code: number | null): SkiffError {
  return new SkiffError('SKIFF_ENGINE_FAILED', `${engine} run exited with code ${code ?? 'signal'}`);
}

/**
 * Runs the engine. In the foreground its output is the terminal's, and SIGINT/SIGTERM sent to skiff are passed
 * on (the engine forwards them to the container, where the server drains and exits 0).
 */
function runEngine(
  engine: string,
  args: readonly string[],
  env: Env,
  stdio: 'pipe' | 'inherit',
  stderr: (text: string) => void,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(engine, args, {
      env,
      stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => stderr(chunk.toString()));
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    if (stdio === 'inherit') {
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
    }
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        new SkiffError(
          'SKIFF_ENGINE_FAILED',
          error.code === 'ENOENT'
            ? `${engine} is not installed: install podman or docker, or pass --engine`
            : error.message,
          { cause: error },
        ),
      ),
    );
    child.on('close', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve({ code, stdout });
    });
  });
}
