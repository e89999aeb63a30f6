import type { ImageReference } from './image-reference.js';
import { parseImageReference } from './image-reference.js';
import type { OciImage } from './oci-layout.js';
import type { ProgressLine } from './progress-line.js';
import { byteCounter } from './progress-line.js';
import type { PushOutcome, RegistryClient } from './registry-client.js';

export interface PushResult {
  /** The manifest digest: `<repository>@<digest>` pins exactly what was pushed. */
  readonly digest: string;
  readonly blobs: Readonly<Record<PushOutcome, number>>;
  readonly bytesUploaded: number;
}

/**
 * Pushes an image's blobs (three at a time) and then its manifest under the target's tag. Blobs the
 * repository has are skipped; the others are mounted when the registry already holds them in the base's
 * repository (the manifest's org.opencontainers.image.base.name) or in the repository the image was built
 * for (its saved name), else uploaded.
 */
export async function pushImage(
  client: RegistryClient,
  image: OciImage,
  target: ImageReference,
  progress: ProgressLine,
): Promise<PushResult> {
  const mountFrom: string[] = [];
  for (const name of [image.manifest.annotations?.['org.opencontainers.image.base.name'], image.name]) {
    if (name === undefined) continue;
    try {
      const source = parseImageReference(name);
      if (source.registry === target.registry && !mountFrom.includes(source.repository))
        mountFrom.push(source.repository);
    } catch {
      // A name we cannot parse only costs the mount.
    }
  }
  const blobs = [image.manifest.config, ...image.manifest.layers];
  const total = blobs.reduce((sum, b) => sum + b.size, 0);
  const onBytes = byteCounter(progress, `pushing ${target.registry}/${target.repository}`, total);
  const counts: Record<PushOutcome, number> = { present: 0, mounted: 0, uploaded: 0 };
  let bytesUploaded = 0;
  const queue = [...blobs];
  const worker = async (): Promise<void> => {
    for (let blob = queue.shift(); blob !== undefined; blob = queue.shift()) {
      const outcome = await client.pushBlob(
        target.registry,
        target.repository,
        blob,
        image.store,
        mountFrom,
        onBytes,
      );
      counts[outcome]++;
      if (outcome === 'uploaded') bytesUploaded += blob.size;
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  progress.clear();
  const manifestBytes = await image.store.read(image.manifestDescriptor.digest);
  const digest = await client.putManifest(
    target.registry,
    target.repository,
    target.tag ?? image.manifestDescriptor.digest,
    manifestBytes,
    image.manifest.mediaType,
  );
  return { digest, blobs: counts, bytesUploaded };
}
