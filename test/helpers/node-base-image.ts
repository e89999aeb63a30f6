// Test support: a "FROM scratch" base image holding this machine's own node and the shared libraries `ldd`
// lists for it and for the native addons Skiff loads, written with our OCI writer and pushed with our client.
import { execFileSync } from 'node:child_process';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { BlobStore } from '../../src/deploy/image/blob-store.js';
import { parseImageReference } from '../../src/deploy/image/image-reference.js';
import { entriesFromDirectory } from '../../src/deploy/image/layer-sources.js';
import type { ImageConfig, ImageManifest } from '../../src/deploy/image/media-types.js';
import { MEDIA_TYPES, hostPlatform } from '../../src/deploy/image/media-types.js';
import { storeImage } from '../../src/deploy/image/oci-layout.js';
import { ProgressLine } from '../../src/deploy/image/progress-line.js';
import { pushImage } from '../../src/deploy/image/push-image.js';
import { RegistryClient } from '../../src/deploy/image/registry-client.js';
import type { LayerEntry } from '../../src/deploy/image/tar-layer.js';
import { writeTarLayer } from '../../src/deploy/image/tar-layer.js';
import { repoRoot } from './paths.js';

// Packages ship addons for several platforms; only this machine's can be ldd'd.
const here = [`${process.platform}${path.sep}${process.arch}`, `${process.platform}-${process.arch}`];

function nativeAddons(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...nativeAddons(full));
    else if (entry.name.endsWith('.node') && here.some((p) => full.includes(p))) found.push(full);
  }
  return found;
}

/** The absolute library paths `ldd` prints for the given binaries, outside node_modules. */
export function lddLibraries(binaries: readonly string[]): string[] {
  const libraries = new Set<string>();
  for (const binary of binaries) {
    const output = execFileSync('ldd', [binary], { encoding: 'utf8' });
    for (const match of output.matchAll(/(?:=>\s*)?(\/[^\s]+)\s+\(0x/g)) {
      const library = match[1];
      if (library !== undefined && !library.includes('node_modules')) libraries.add(library);
    }
  }
  return [...libraries].sort();
}

async function pushRootfs(
  registryHost: string,
  workDir: string,
  name: string,
  entries: readonly LayerEntry[],
): Promise<string> {
  const store = new BlobStore(path.join(workDir, name.replace(/[/:]/g, '-')));
  const layer = await writeTarLayer(entries, store, { mtimeSeconds: 0 });
  const platform = hostPlatform();
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['node'],
    },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    // One entry per layer, as every real image has: `buildah bud --layers` refuses a base without them.
    history: [{ created: '1970-01-01T00:00:00Z', created_by: `skiff test base ${name}` }],
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: await store.putBytes(Buffer.from(JSON.stringify(config)), MEDIA_TYPES.ociConfig),
    layers: [layer.descriptor],
  };
  const reference = `${registryHost}/${name}`;
  await pushImage(
    new RegistryClient(),
    await storeImage(manifest, config, store),
    parseImageReference(reference),
    new ProgressLine(() => undefined, false),
  );
  return reference;
}

function hostFiles(files: readonly string[]): LayerEntry[] {
  return files.map((file): LayerEntry => ({
    type: 'file',
    path: file.slice(1),
    mode: 0o755,
    size: statSync(file).size,
    source: realpathSync(file),
  }));
}

function nodeAndLibraries(): LayerEntry[] {
  const node = realpathSync(process.execPath);
  const addons = [
    ...nativeAddons(path.join(repoRoot(), 'node_modules', 'onnxruntime-node', 'bin')),
    ...nativeAddons(path.join(repoRoot(), 'node_modules', '@img')),
  ];
  return [
    { type: 'file', path: 'usr/bin/node', mode: 0o755, size: statSync(node).size, source: node },
    ...hostFiles(lddLibraries([node, ...addons])),
  ];
}

/** Builds the run-time base and pushes it as `<registryHost>/node-base:20`; returns that reference. */
export async function pushNodeBase(registryHost: string, workDir: string): Promise<string> {
  return pushRootfs(registryHost, workDir, 'node-base:20', nodeAndLibraries());
}

// What the Containerfile's build stage runs besides node and npm: `RUN` is `/bin/sh -c`, the bins npm installs
// start with `#!/usr/bin/env node`, and the build steps use these tools.
const BUILDER_TOOLS = [
  '/usr/bin/env',
  '/usr/bin/find',
  '/usr/bin/rm',
  '/usr/bin/mkdir',
  '/usr/bin/cp',
  '/usr/bin/dirname',
];

const PASSWD = Buffer.from('root:x:0:0:root:/root:/bin/sh\n');

/**
 * Builds the build-stage base for the Containerfile (node, this machine's npm beside it, a shell and the
 * tools above) and pushes it as `<registryHost>/node-builder:20`; returns that reference.
 */
export async function pushNodeBuilder(registryHost: string, workDir: string): Promise<string> {
  const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  // <prefix>/lib/node_modules/npm/bin/npm-cli.js: npm's own folder is two levels up.
  const npmDir = path.dirname(path.dirname(npmCli));
  const shell = realpathSync('/bin/sh');
  const tools = BUILDER_TOOLS.map((tool) => realpathSync(tool));
  const node = nodeAndLibraries();
  const have = new Set(node.map((entry) => entry.path));
  const libraries = hostFiles(lddLibraries([shell, ...tools])).filter((entry) => !have.has(entry.path));
  return pushRootfs(registryHost, workDir, 'node-builder:20', [
    ...node,
    ...libraries,
    ...hostFiles(tools),
    { type: 'file', path: 'bin/sh', mode: 0o755, size: statSync(shell).size, source: shell },
    ...(await entriesFromDirectory(npmDir, 'usr/lib/node_modules/npm')),
    { type: 'symlink', path: 'usr/bin/npm', mode: 0o777, target: '../lib/node_modules/npm/bin/npm-cli.js' },
    { type: 'symlink', path: 'usr/bin/npx', mode: 0o777, target: '../lib/node_modules/npm/bin/npx-cli.js' },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'dir', path: 'root', mode: 0o700 },
    // Engines take HOME from here (npm keeps its cache in ~/.npm), as in the official node images.
    { type: 'file', path: 'etc/passwd', mode: 0o644, size: PASSWD.length, source: PASSWD },
  ]);
}
