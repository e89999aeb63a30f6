import path from 'node:path';

export interface EngineRunOptions {
  readonly image: string;
  readonly hostAddress: string;
  readonly hostPort: number;
  /** Absolute path of a local model file or directory (mounted), or a zoo name / URL (fetched at start). */
  readonly model?: { readonly local: string } | { readonly fetch: string } | undefined;
  /** Absolute path of a labels file (mounted). */
  readonly labels?: string | undefined;
  readonly name?: string | undefined;
  readonly detach: boolean;
}

/** The server's port inside every Skiff image (SKIFF_PORT in the image; `skiff build --port` changes it). */
export const CONTAINER_PORT = 5000;

/**
 * The `podman run` / `docker run` arguments (the same for both): the port on the host address, local files
 * mounted read-only under /models and /labels (separate folders, so names never collide), and `skiff serve`
 * flags after the image name, which the image's entrypoint receives.
 */
export function engineRunArgs(options: EngineRunOptions): string[] {
  const mounts: string[] = [];
  const serveArgs: string[] = [];
  const model = options.model;
  if (model !== undefined && 'local' in model) {
    const inside = `/models/${path.basename(model.local)}`;
    mounts.push('-v', `${model.local}:${inside}:ro`);
    serveArgs.push('--model', inside);
  } else if (model !== undefined) serveArgs.push('--model', model.fetch);
  if (options.labels !== undefined) {
    const inside = `/labels/${path.basename(options.labels)}`;
    mounts.push('-v', `${options.labels}:${inside}:ro`);
    serveArgs.push('--labels', inside);
  }
  return [
    'run',
    // In the foreground the container goes when it exits; detached, it stays for `logs` and its exit code.
    ...(options.detach ? ['-d'] : ['--rm']),
    ...(options.name === undefined ? [] : ['--name', options.name]),
    '-p',
    `${options.hostAddress}:${options.hostPort}:${CONTAINER_PORT}`,
    ...mounts,
    options.image,
    ...serveArgs,
  ];
}
