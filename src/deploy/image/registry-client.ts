import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { SkiffError } from '../../core/errors.js';
import type { BlobStore } from './blob-store.js';
import { sha256Digest } from './blob-store.js';
import type { ImageReference } from './image-reference.js';
import { referenceOf } from './image-reference.js';
import type { Descriptor } from './media-types.js';
import { MANIFEST_ACCEPT } from './media-types.js';
import { expectStatus, registryFailure } from './registry-failure.js';
import type { RegistryTransportOptions } from './registry-transport.js';
import { RegistryTransport } from './registry-transport.js';

export interface RegistryClientOptions extends RegistryTransportOptions {
  /** Blobs larger than this are uploaded in PATCH chunks of this size; smaller ones in one PUT. */
  readonly chunkBytes?: number;
}

export interface FetchedManifest {
  readonly mediaType: string;
  readonly bytes: Buffer;
  readonly digest: string;
}

/** How a blob reached the target repository. */
export type PushOutcome = 'present' | 'mounted' | 'uploaded';

/**
 * A client for the OCI distribution API (v2): manifests, blobs, uploads, mounts. Handles Bearer-token and
 * Basic auth challenges, retries transient failures with backoff, and verifies every downloaded digest.
 * One instance may serve concurrent calls; tokens are cached per registry and scope.
 */
export class RegistryClient {
  private readonly options: RegistryClientOptions;
  private readonly transport: RegistryTransport;

  constructor(options: RegistryClientOptions = {}) {
    this.options = options;
    this.transport = new RegistryTransport(options);
  }

  /** Fetches a manifest or index by tag or digest, checking the digest when one was asked for. */
  async getManifest(ref: ImageReference, reference = referenceOf(ref)): Promise<FetchedManifest> {
    const response = await this.transport.request(ref.registry, [`repository:${ref.repository}:pull`], {
      method: 'GET',
      url: `/v2/${ref.repository}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new SkiffError(
        'SKIFF_IMAGE_NOT_FOUND',
        `${ref.registry}/${ref.repository}:${reference} does not exist in the registry`,
      );
    }
    await expectStatus(response, [200], `GET manifest ${ref.repository}:${reference}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && reference !== digest)
      throw new SkiffError('SKIFF_IMAGE_INVALID', `manifest ${reference} arrived with digest ${digest}`);
    const mediaType =
      (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ??
      response.headers.get('content-type')?.split(';')[0] ??
      '';
    return { mediaType, bytes, digest };
  }

  /** Downloads a blob into the store (skipped when the store has it), verifying size and digest as it streams. */
  async fetchBlob(
    registry: string,
    repository: string,
    descriptor: Descriptor,
    store: BlobStore,
    onBytes: (count: number) => void = () => undefined,
  ): Promise<void> {
    if (store.has(descriptor.digest)) {
      onBytes(descriptor.size);
      return;
    }
    const response = await this.transport.request(registry, [`repository:${repository}:pull`], {
      method: 'GET',
      url: `/v2/${repository}/blobs/${descriptor.digest}`,
    });
    await expectStatus(response, [200], `GET blob ${descriptor.digest}`);
    if (response.body === null) throw new SkiffError('SKIFF_REGISTRY_FAILED', 'blob response has no body');
    const hash = createHash('sha256');
    let size = 0;
    const temp = await store.tempPath();
    try {
      await pipeline(
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            size += chunk.length;
            onBytes(chunk.length);
            callback(null, chunk);
          },
        }),
        createWriteStream(temp),
      );
      const digest = `sha256:${hash.digest('hex')}`;
      if (digest !== descriptor.digest || size !== descriptor.size)
        throw new SkiffError(
          'SKIFF_IMAGE_INVALID',
          `blob ${descriptor.digest} from ${registry}/${repository} arrived as ${digest} (${size} bytes)`,
        );
      await store.adopt(temp, digest);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async hasBlob(registry: string, repository: string, digest: string): Promise<boolean> {
    const response = await this.transport.request(registry, [`repository:${repository}:pull,push`], {
      method: 'HEAD',
      url: `/v2/${repository}/blobs/${digest}`,
    });
    await response.body?.cancel();
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await registryFailure(response, `HEAD blob ${digest}`);
  }

  /**
   * Makes a blob exist in `repository`: nothing if it is there, a cross-repository mount from one of `mountFrom`
   * (repositories on the same registry) when the registry agrees, else an upload from the store: one PUT, or PATCH chunks for big blobs.
   */
  async pushBlob(
    registry: string,
    repository: string,
    descriptor: Descriptor,
    store: BlobStore,
    mountFrom: readonly string[] = [],
    onBytes: (count: number) => void = () => undefined,
  ): Promise<PushOutcome> {
    if (await this.hasBlob(registry, repository, descriptor.digest)) {
      onBytes(descriptor.size);
      return 'present';
    }
    const sources = mountFrom.filter((source) => source !== repository);
    const scopes = [
      `repository:${repository}:pull,push`,
      ...sources.map((source) => `repository:${source}:pull`),
    ];
    let started: Response | undefined;
    const attempts: (string | undefined)[] = sources.length > 0 ? sources : [undefined];
    for (const [index, source] of attempts.entries()) {
      const query =
        source === undefined
          ? ''
          : `?mount=${encodeURIComponent(descriptor.digest)}&from=${encodeURIComponent(source)}`;
      started = await this.transport.request(registry, scopes, {
        method: 'POST',
        url: `/v2/${repository}/blobs/uploads/${query}`,
      });
      await started.body?.cancel();
      if (started.status === 201) {
        onBytes(descriptor.size);
        return 'mounted';
      }
      if (started.status !== 202)
        throw await registryFailure(started, `start upload of ${descriptor.digest}`);
      // A refused mount still opens an upload session: the last one is used, earlier ones expire on the registry.
      if (index === attempts.length - 1) break;
    }
    if (started === undefined) throw new SkiffError('SKIFF_REGISTRY_FAILED', 'no upload session');
    let location = this.transport.location(registry, started);
    const chunkBytes = this.options.chunkBytes ?? 32 * 1024 * 1024;
    const file = await open(store.pathOf(descriptor.digest), 'r');
    try {
      if (descriptor.size > chunkBytes) {
        for (let offset = 0; offset < descriptor.size; offset += chunkBytes) {
          const length = Math.min(chunkBytes, descriptor.size - offset);
          const chunk = Buffer.alloc(length);
          await file.read(chunk, 0, length, offset);
          const patched = await this.transport.request(registry, scopes, {
            method: 'PATCH',
            url: location,
            headers: {
              'content-type': 'application/octet-stream',
              'content-range': `${offset}-${offset + length - 1}`,
              'content-length': String(length),
            },
            body: chunk,
          });
          await patched.body?.cancel();
          if (patched.status !== 202)
            throw await registryFailure(patched, `upload chunk of ${descriptor.digest}`);
          location = this.transport.location(registry, patched);
          onBytes(length);
        }
        const done = await this.transport.request(registry, scopes, {
          method: 'PUT',
          url: withDigest(location, descriptor.digest),
          headers: { 'content-length': '0' },
        });
        await expectStatus(done, [201], `finish upload of ${descriptor.digest}`);
      } else {
        const body = Buffer.alloc(descriptor.size);
        await file.read(body, 0, descriptor.size, 0);
        const done = await this.transport.request(registry, scopes, {
          method: 'PUT',
          url: withDigest(location, descriptor.digest),
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(descriptor.size) },
          body,
        });
        await expectStatus(done, [201], `upload ${descriptor.digest}`);
        onBytes(descriptor.size);
      }
    } finally {
      await file.close();
    }
    return 'uploaded';
  }

  /** PUTs a manifest or index under a tag (or its digest); returns the digest the registry stored. */
  async putManifest(
    registry: string,
    repository: string,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<string> {
    const response = await this.transport.request(registry, [`repository:${repository}:pull,push`], {
      method: 'PUT',
      url: `/v2/${repository}/manifests/${reference}`,
      headers: { 'content-type': mediaType },
      body: Buffer.from(bytes),
    });
    await expectStatus(response, [201], `PUT manifest ${repository}:${reference}`);
    return response.headers.get('docker-content-digest') ?? sha256Digest(bytes);
  }
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}
