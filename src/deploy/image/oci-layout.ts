import { createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { x as extractTar } from 'tar';
import { SkiffError } from '../../core/errors.js';
import { BlobStore, sha256Digest } from './blob-store.js';
import type { ImageReference } from './image-reference.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from './media-types.js';
import { MEDIA_TYPES } from './media-types.js';
import type { LayerEntry } from './tar-layer.js';
import { tarStream } from './tar-layer.js';

/** A single-platform image whose blobs (config, layers, manifest) are all in `store`. */
export interface OciImage {
  readonly manifest: ImageManifest;
  readonly manifestDescriptor: Descriptor;
  readonly config: ImageConfig;
  readonly store: BlobStore;
  /** The reference it was built or saved for (the index's io.containerd.image.name), when known. */
  readonly name?: string;
}

/** Serializes a manifest into the store and returns the image with its descriptor (platform from the config). */
export async function storeImage(
  manifest: ImageManifest,
  config: ImageConfig,
  store: BlobStore,
): Promise<OciImage> {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const stored = await store.putBytes(bytes, manifest.mediaType);
  return {
    manifest,
    config,
    store,
    manifestDescriptor: {
      ...stored,
      platform: {
        os: config.os,
        architecture: config.architecture,
        ...(config.variant === undefined ? {} : { variant: config.variant }),
      },
    },
  };
}

function blobsOf(image: OciImage): string[] {
  return [
    image.manifestDescriptor.digest,
    image.manifest.config.digest,
    ...image.manifest.layers.map((l) => l.digest),
  ];
}

/** The short name `docker load` shows: Docker Hub images without "docker.io/" and "library/". */
export function dockerName(ref: ImageReference): string {
  const repository =
    ref.registry === 'docker.io'
      ? ref.repository.replace(/^library\//, '')
      : `${ref.registry}/${ref.repository}`;
  return `${repository}:${ref.tag ?? 'latest'}`;
}

function indexFor(image: OciImage, ref: ImageReference | undefined): ImageIndex {
  const annotations: Record<string, string> = {};
  if (ref !== undefined) {
    annotations['io.containerd.image.name'] = dockerName(ref);
    annotations['org.opencontainers.image.ref.name'] = ref.tag ?? 'latest';
  }
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [{ ...image.manifestDescriptor, ...(ref === undefined ? {} : { annotations }) }],
  };
}

/** Writes an OCI image layout directory (oci-layout, index.json, blobs/) that skopeo, podman and umoci read. */
export async function writeOciLayout(dir: string, image: OciImage, ref?: ImageReference): Promise<void> {
  await mkdir(dir, { recursive: true });
  const target = new BlobStore(dir);
  for (const digest of blobsOf(image)) await target.copyFrom(image.store, digest);
  await rm(path.join(dir, 'tmp'), { recursive: true, force: true });
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(path.join(dir, 'index.json'), JSON.stringify(indexFor(image, ref)));
}

/**
 * Writes one tar that is both an OCI layout and a `docker save` archive (manifest.json naming the config and
 * layers), as Docker 25+ does, so `docker load`, `podman load` and skopeo's oci-archive all take it.
 */
export async function writeImageArchive(file: string, image: OciImage, ref?: ImageReference): Promise<void> {
  const mtime = { mtimeSeconds: 0 };
  const blobPath = (digest: string): string => `blobs/sha256/${digest.slice('sha256:'.length)}`;
  const dockerManifest = [
    {
      Config: blobPath(image.manifest.config.digest),
      RepoTags: ref === undefined ? [] : [dockerName(ref)],
      Layers: image.manifest.layers.map((l) => blobPath(l.digest)),
    },
  ];
  const memory = (name: string, text: string): LayerEntry => {
    const bytes = Buffer.from(text);
    return { type: 'file', path: name, mode: 0o644, size: bytes.length, source: bytes };
  };
  const blobs = [...new Set(blobsOf(image))].sort().map((digest): LayerEntry => {
    const source = image.store.pathOf(digest);
    return { type: 'file', path: blobPath(digest), mode: 0o644, size: statSync(source).size, source };
  });
  const entries: LayerEntry[] = [
    { type: 'dir', path: 'blobs', mode: 0o755 },
    { type: 'dir', path: 'blobs/sha256', mode: 0o755 },
    ...blobs,
    memory('index.json', JSON.stringify(indexFor(image, ref))),
    memory('manifest.json', JSON.stringify(dockerManifest)),
    memory('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' })),
  ];
  await mkdir(path.dirname(file), { recursive: true });
  await pipeline(Readable.from(tarStream(entries, mtime)), createWriteStream(file));
}

/**
 * Reads an image written by `skiff build` (or skopeo/buildah): an OCI layout directory or a tar of one. A tar
 * is unpacked into a temporary directory that `dispose` removes. With several manifests, `tag` picks one by
 * its ref.name annotation.
 */
export async function readImage(
  source: string,
  tag?: string,
): Promise<{ image: OciImage; dispose: () => Promise<void> }> {
  if (!existsSync(source)) throw new SkiffError('SKIFF_IMAGE_NOT_FOUND', `${source} does not exist`);
  let dir = source;
  let dispose = (): Promise<void> => Promise.resolve();
  if (statSync(source).isFile()) {
    dir = await mkdtemp(path.join(os.tmpdir(), 'skiff-image-'));
    const unpacked = dir;
    dispose = () => rm(unpacked, { recursive: true, force: true });
    await extractTar({ file: source, cwd: dir });
  }
  try {
    if (!existsSync(path.join(dir, 'index.json')))
      throw new SkiffError(
        'SKIFF_IMAGE_INVALID',
        `${source} is not an OCI image layout (no index.json); write one with "skiff build --output <dir>"`,
      );
    const store = new BlobStore(dir);
    const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as ImageIndex;
    const candidates =
      tag === undefined
        ? index.manifests
        : index.manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
    const chosen = candidates.length === 1 ? candidates[0] : tag === undefined ? undefined : candidates[0];
    if (chosen === undefined)
      throw new SkiffError(
        'SKIFF_IMAGE_INVALID',
        `${source} holds ${index.manifests.length} manifests${tag === undefined ? '' : ` and none is tagged "${tag}"`}`,
      );
    const manifestBytes = await store.read(chosen.digest);
    if (sha256Digest(manifestBytes) !== chosen.digest)
      throw new SkiffError('SKIFF_IMAGE_INVALID', `${source}: manifest ${chosen.digest} is corrupt`);
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
    if (!('config' in manifest))
      throw new SkiffError('SKIFF_IMAGE_INVALID', `${source}: only single-platform images can be pushed`);
    const config = JSON.parse((await store.read(manifest.config.digest)).toString('utf8')) as ImageConfig;
    for (const layer of manifest.layers)
      if (!store.has(layer.digest))
        throw new SkiffError('SKIFF_IMAGE_INVALID', `${source}: layer ${layer.digest} is missing`);
    const name = chosen.annotations?.['io.containerd.image.name'];
    return {
      image: { manifest, config, store, manifestDescriptor: chosen, ...(name === undefined ? {} : { name }) },
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
