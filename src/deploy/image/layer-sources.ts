import { existsSync, readFileSync } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { SkiffError } from '../../core/errors.js';
import type { LayerEntry } from './tar-layer.js';
import type { Platform } from './media-types.js';

/** Decides per path (relative to the walked folder, "/"-separated) whether it goes into the layer. */
export type PathFilter = (relative: string, isDirectory: boolean) => boolean;

/**
 * Lists a folder as layer entries under `destination`, root-owned, 0755 for directories and executables and
 * 0644 otherwise: the container user can read and run the app but not change it.
 */
export async function entriesFromDirectory(
  source: string,
  destination: string,
  filter: PathFilter = () => true,
): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  const walk = async (dir: string, relative: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const rel = relative === '' ? name : `${relative}/${name}`;
      const full = path.join(dir, name);
      const info = await lstat(full);
      if (!filter(rel, info.isDirectory())) continue;
      const target = `${destination}/${rel}`;
      if (info.isDirectory()) {
        entries.push({ type: 'dir', path: target, mode: 0o755 });
        await walk(full, rel);
      } else if (info.isSymbolicLink()) {
        entries.push({ type: 'symlink', path: target, mode: 0o777, target: await readlink(full) });
      } else if (info.isFile()) {
        entries.push({
          type: 'file',
          path: target,
          mode: (info.mode & 0o111) !== 0 ? 0o755 : 0o644,
          size: info.size,
          source: full,
        });
      }
    }
  };
  await walk(source, '');
  return entries;
}

interface LockPackage {
  readonly dev?: boolean;
}

const NODE_OS: Readonly<Record<string, string>> = { linux: 'linux' };
const NODE_ARCH: Readonly<Record<string, string>> = { amd64: 'x64', arm64: 'arm64', arm: 'arm' };

/**
 * The production dependencies (package-lock.json entries not marked `dev`) under `<appDir>/node_modules`, as
 * entries under `<destination>/node_modules`. Pruned: TypeScript declarations, source maps and Markdown, and
 * onnxruntime-node's prebuilt binaries for other platforms (about 245 MB of its 290 MB).
 */
export async function productionNodeModules(
  appDir: string,
  destination: string,
  platform: Platform,
): Promise<LayerEntry[]> {
  const lockFile = path.join(appDir, 'package-lock.json');
  if (!existsSync(lockFile))
    throw new SkiffError('SKIFF_IMAGE_INVALID', `${lockFile} is missing: it lists the production packages`);
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { packages?: Record<string, LockPackage> };
  const packageDirs = Object.entries(lock.packages ?? {})
    .filter(([key, value]) => key.startsWith('node_modules/') && value.dev !== true)
    .map(([key]) => key)
    .filter((key) => existsSync(path.join(appDir, key)))
    .sort();
  const keep = onnxRuntimeBinaryFilter(platform);
  const entries: LayerEntry[] = [];
  for (const dir of packageDirs) {
    entries.push(
      ...(await entriesFromDirectory(path.join(appDir, dir), `${destination}/${dir}`, (rel, isDirectory) => {
        // Nested node_modules hold packages the lock file lists on their own (and may be dev-only).
        if (isDirectory && (rel === 'node_modules' || rel.endsWith('/node_modules'))) return false;
        if (!isDirectory && /(\.d\.[cm]?ts|\.map|\.md|\.markdown)$/i.test(rel)) return false;
        return dir.endsWith('node_modules/onnxruntime-node') ? keep(rel) : true;
      })),
    );
  }
  return entries;
}

function onnxRuntimeBinaryFilter(platform: Platform): (relative: string) => boolean {
  const os = NODE_OS[platform.os] ?? platform.os;
  const arch = NODE_ARCH[platform.architecture] ?? platform.architecture;
  return (relative) => {
    const match = /^bin\/napi-v\d+\/([^/]+)(?:\/([^/]+))?/.exec(relative);
    if (match === null) return true;
    if (match[1] !== os) return false;
    if (match[2] !== undefined && match[2] !== arch) return false;
    // GPU execution providers are only present when their download was not skipped; the CPU image never uses them.
    return !/libonnxruntime_providers_(cuda|tensorrt|rocm|migraphx)/.test(relative);
  };
}

/**
 * The libjpeg addon `npm run build` made, the libjpeg it links (looked for beside it first) and that library's
 * licence: an image whose base has no libjpeg still decodes JPEG uploads with it. Built for this machine's CPU
 * architecture: in an image for another, it does not load and libvips decodes instead.
 */
const LIBJPEG_ADDON_FILES =
  /^runtimes\/libjpeg\/(jpeg-decode\.node|libjpeg\.so\.\d+|libjpeg-turbo-LICENSE\.txt)$/;

/**
 * The built app: package.json, dist/src without tests and source maps, the run-time assets that live
 * beside the sources (e.g. .proto files), which tsc does not copy, under src/ with their folders, and the
 * models that ship with Skiff (models/, the default model), so an image serves with no network.
 */
export async function appEntries(appDir: string, destination: string): Promise<LayerEntry[]> {
  const distSrc = path.join(appDir, 'dist', 'src');
  if (!existsSync(path.join(distSrc, 'cli', 'main.js')))
    throw new SkiffError(
      'SKIFF_IMAGE_INVALID',
      `${distSrc}/cli/main.js is missing: run "npm run build" first`,
    );
  const packageJson = path.join(appDir, 'package.json');
  const info = await lstat(packageJson);
  return [
    { type: 'file', path: `${destination}/package.json`, mode: 0o644, size: info.size, source: packageJson },
    ...(await entriesFromDirectory(
      distSrc,
      `${destination}/dist/src`,
      (rel, isDirectory) =>
        isDirectory || (rel.endsWith('.js') && !rel.endsWith('.test.js')) || LIBJPEG_ADDON_FILES.test(rel),
    )),
    ...(
      await entriesFromDirectory(
        path.join(appDir, 'src'),
        `${destination}/src`,
        (rel, isDirectory) => isDirectory || !/\.(ts|tsx|mts|cts|md)$/.test(rel),
      )
    ).filter((entry) => entry.type !== 'dir'),
    // With their PROVENANCE.md: the weights' licence notice travels with them.
    ...(await entriesFromDirectory(path.join(appDir, 'models'), `${destination}/models`)),
  ];
}
