import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../core/errors.js';

export type Engine = 'docker' | 'podman' | 'buildah';

export interface EngineBuildOptions {
  readonly engine: Engine;
  /** The build context: a Skiff checkout holding the Containerfile. */
  readonly contextDir: string;
  readonly base: string;
  /** The build stage's image (node, npm and a shell): build arg BUILDER; the Containerfile's default otherwise. */
  readonly builder?: string | undefined;
  /**
   * A PEM bundle the build's npm should trust besides the public CAs (a proxy that re-signs TLS), passed as the
   * build secret "ca" so it never lands in a layer; from $NODE_EXTRA_CA_CERTS.
   */
  readonly extraCaFile?: string | undefined;
  readonly tag: string;
  /** A zoo name or URL for the container to fetch at start (build arg MODEL). */
  readonly model?: string | undefined;
  readonly push: boolean;
  /** The engine's environment (CONTAINERS_CONF, DOCKER_HOST, ...). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  readonly stderr: (text: string) => void;
}

/** The argument lists `engineBuild` runs, in order; exported so the mapping is testable without an engine. */
export function engineCommands(options: EngineBuildOptions): string[][] {
  const args = [
    // buildah's own default (no step cache) is kept: committing every step of the build stage, node_modules
    // with dev dependencies included, tripled a cold build here. BUILDAH_LAYERS=true turns it on.
    ...(options.engine === 'buildah' ? ['bud'] : ['build']),
    '-f',
    path.join(options.contextDir, 'Containerfile'),
    '--build-arg',
    `BASE=${options.base}`,
    ...(options.builder === undefined ? [] : ['--build-arg', `BUILDER=${options.builder}`]),
    ...(options.model === undefined ? [] : ['--build-arg', `MODEL=${options.model}`]),
    ...(options.extraCaFile === undefined ? [] : ['--secret', `id=ca,src=${options.extraCaFile}`]),
    '-t',
    options.tag,
    options.contextDir,
  ];
  const commands = [[options.engine, ...args]];
  if (options.push) commands.push([options.engine, 'push', options.tag]);
  return commands;
}

/** `skiff build --engine`: runs the local engine on the Containerfile, its output passed through to stderr. */
export async function engineBuild(options: EngineBuildOptions): Promise<void> {
  if (!existsSync(path.join(options.contextDir, 'Containerfile')))
    throw new SkiffError('SKIFF_ENGINE_FAILED', `${options.contextDir} has no Containerfile`);
  for (const [command, ...args] of engineCommands(options)) {
    if (command === undefined) continue;
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env });
      child.stdout.on('data', (chunk: Buffer) => options.stderr(chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => options.stderr(chunk.toString()));
      child.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          new SkiffError(
            'SKIFF_ENGINE_FAILED',
            error.code === 'ENOENT'
              ? `${command} is not installed; drop --engine to build without one`
              : error.message,
            { cause: error },
          ),
        ),
      );
      child.on('close', resolve);
    });
    if (code !== 0)
      throw new SkiffError(
        'SKIFF_ENGINE_FAILED',
        `${command} ${args[0] ?? ''} exited with code ${code ?? 'signal'}`,
      );
  }
}
