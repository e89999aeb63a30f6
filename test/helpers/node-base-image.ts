// Test support: a "FROM scratch" base image holding this machine's own node and the shared libraries `ldd`
// lists for it and for the native addons Skiff loads, written with our OCI writer and pushed with our client.
import { execFileSync } from 'node:child_process';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { BlobStore } from '../../src/deploy/image/blob-store.js';
import { parseImageReference } from '../../src/deploy/image/image-reference.js';
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
