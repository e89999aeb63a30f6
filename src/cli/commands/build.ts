import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildConfig } from '../../config/build-options.js';
import { SkiffError } from '../../core/errors.js';
import type { BakedModel } from '../../deploy/image/build-image.js';
import { buildImage } from '../../deploy/image/build-image.js';
import { engineBuild } from '../../deploy/image/engine-build.js';
import { formatImageReference, parseImageReference } from '../../deploy/image/image-reference.js';
import type { Platform } from '../../deploy/image/media-types.js';
import { hostPlatform } from '../../deploy/image/media-types.js';
import { writeImageArchive, writeOciLayout } from '../../deploy/image/oci-layout.js';
import { ProgressLine, megabytes } from '../../deploy/image/progress-line.js';
import { pushImage } from '../../deploy/image/push-image.js';
import { registryClientFor } from '../../deploy/image/registry-access.js';
import { resolveCacheDir } from '../../store/resolve-model-source.js';
import { findZooEntry, zooNames } from '../../store/zoo.js';
import { embeddedModelNames, findEmbeddedModel } from '../../store/embedded-models.js';
import type { CommandIo } from '../command-spec.js';
import { BUILD_COMMAND } from '../command-table.js';
import { readCommand } from '../read-command.js';

/** The Skiff installation this CLI runs from: dist/src/cli/commands/build.js is four levels below it. */
export function installRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
}

/** `skiff build`: prints `<repository>@<digest>` on stdout; progress and a summary go to stderr. */
export async function buildCommand(io: CommandIo): Promise<number> {
  const config = readCommand(BUILD_COMMAND, io);
  if (config === undefined) return 0;
  const appDir = config.appDir === undefined ? installRoot() : path.resolve(io.cwd, config.appDir);
  const target = parseImageReference(config.tag);
  const model = resolveModel(config, io.cwd);

  if (config.engine !== undefined) {
    if (model !== undefined && 'file' in model)
      throw new SkiffError(
        'SKIFF_CONFIG_INVALID',
        'with --engine the model is fetched at start: pass a zoo name or URL as --model, or drop --engine to bake a file in',
      );
    await engineBuild({
      engine: config.engine,
      contextDir: appDir,
      base: config.base,
      builder: config.builder,
      extraCaFile: extraCaFile(io.env),
      tag: config.tag,
      model: model?.fetch,
      push: config.push,
      env: io.env,
      stderr: io.stderr,
    });
    io.stdout(`${config.tag}\n`);
    return 0;
  }

  const client = registryClientFor(config, io.env, target.registry);
  const progress = new ProgressLine(io.stderr, io.stderrIsTty);
  const started = performance.now();
  const result = await buildImage({
    base: config.base,
    appDir,
    platform: parsePlatform(config.platform),
    model,
    port: config.port,
    user: config.user,
    cacheDir: config.cacheDir ?? resolveCacheDir(io.env),
    client,
    epochSeconds: sourceDateEpoch(io.env),
    progress,
  });
  const image = result.image;
  const total = image.manifest.layers.reduce((sum, l) => sum + l.size, 0) + image.manifest.config.size;
  io.stderr(
    `built ${image.manifestDescriptor.digest} in ${seconds(started)}: ${megabytes(total)} MB compressed; ` +
      result.layers.map((l) => `${l.name} ${megabytes(l.size)} MB${l.cached ? ' (cached)' : ''}`).join(', ') +
      '\n',
  );
  const output = config.output ?? (config.push ? undefined : 'skiff-image');
  if (output !== undefined) {
    const file = path.resolve(io.cwd, output);
    if (file.endsWith('.tar')) await writeImageArchive(file, image, target);
    else await writeOciLayout(file, image, target);
    io.stderr(
      `wrote ${file}${file.endsWith('.tar') ? ' (docker load / podman load -i)' : ' (OCI layout)'}\n`,
    );
  }
  if (config.push) {
    const pushStarted = performance.now();
    const pushed = await pushImage(client, image, target, progress);
    io.stderr(
      `pushed ${config.tag} in ${seconds(pushStarted)}: ${pushed.blobs.uploaded} blobs uploaded (${megabytes(
        pushed.bytesUploaded,
      )} MB), ${pushed.blobs.mounted} mounted, ${pushed.blobs.present} already there\n`,
    );
  }
  io.stdout(
    `${formatImageReference({ registry: target.registry, repository: target.repository })}@${image.manifestDescriptor.digest}\n`,
  );
  return 0;
}

function resolveModel(config: BuildConfig, cwd: string): BakedModel | { readonly fetch: string } | undefined {
  if (config.model === undefined) {
    if (config.labels !== undefined || config.modelConfig !== undefined)
      throw new SkiffError(
        'SKIFF_CONFIG_INVALID',
        '--labels and --model-config need a local --model to sit beside',
      );
    return undefined;
  }
  const local = path.resolve(cwd, config.model);
  const labels = config.labels === undefined ? undefined : path.resolve(cwd, config.labels);
  const modelConfig = config.modelConfig === undefined ? undefined : path.resolve(cwd, config.modelConfig);
  if (existsSync(local)) {
    const isDir = statSync(local).isDirectory();
    return {
      file: isDir ? path.join(local, 'model.onnx') : local,
      labels,
      config:
        modelConfig ??
        (isDir && existsSync(path.join(local, 'model.json')) ? path.join(local, 'model.json') : undefined),
    };
  }
  if (
    /^https?:\/\//.test(config.model) ||
    findZooEntry(config.model) !== undefined ||
    findEmbeddedModel(config.model) !== undefined
  ) {
    if (labels !== undefined || modelConfig !== undefined)
      throw new SkiffError(
        'SKIFF_CONFIG_INVALID',
        '--labels and --model-config need a local --model to sit beside',
      );
    return { fetch: config.model };
  }
  // Caught here rather than when the container starts and cannot find it.
  throw new SkiffError(
    'SKIFF_MODEL_FILE_MISSING',
    `--model ${config.model}: no such file, and not a URL or a model name (shipped: ${embeddedModelNames().join(', ')}; zoo: ${zooNames().join(', ')})`,
  );
}

/** The CA bundle node is told to trust here, so `npm ci` inside the engine build trusts the same proxy. */
function extraCaFile(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const file = env.NODE_EXTRA_CA_CERTS;
  return file !== undefined && file !== '' && existsSync(file) ? path.resolve(file) : undefined;
}

function parsePlatform(text: string | undefined): Platform {
  if (text === undefined) return hostPlatform();
  const [os = 'linux', architecture = 'amd64', variant] = text.split('/');
  return { os, architecture, ...(variant === undefined ? {} : { variant }) };
}

/** SOURCE_DATE_EPOCH (reproducible-builds.org) sets the timestamps; otherwise the epoch itself. */
function sourceDateEpoch(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return 0;
  if (!/^\d+$/.test(raw))
    throw new SkiffError('SKIFF_CONFIG_INVALID', `SOURCE_DATE_EPOCH must be whole seconds, got "${raw}"`);
  return Number(raw);
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}
