import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SkiffError } from '../../core/errors.js';
import type { Descriptor } from './media-types.js';

export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export async function sha256OfFile(file: string): Promise<string> {
  // Most files in node_modules are small: one read each is several times faster than a stream.
  if ((await stat(file)).size < 4 * 1024 * 1024) return sha256Digest(await readFile(file));
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

function hexOf(digest: string): string {
  const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (match?.[1] === undefined) throw new SkiffError('SKIFF_IMAGE_INVALID', `unsupported digest "${digest}"`);
  return match[1];
}

/**
 * Content-addressed blobs in `<root>/blobs/sha256/<hex>`, the layout of an OCI image layout directory, so the
 * layer cache and an output directory share one format. Writes go to a temporary name and are renamed into
 * place, so a reader never sees half a blob and concurrent writers of the same content both succeed.
 */
export class BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  pathOf(digest: string): string {
    return path.join(this.root, 'blobs', 'sha256', hexOf(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.pathOf(digest));
  }

  /** A fresh temporary file name on the same file system, for writers that rename into place. */
  async tempPath(): Promise<string> {
    const dir = path.join(this.root, 'tmp');
    await mkdir(dir, { recursive: true });
    return path.join(dir, randomUUID());
  }

  async putBytes(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256Digest(bytes);
    if (!this.has(digest)) {
      const temp = await this.tempPath();
      await writeFile(temp, bytes);
      await this.adopt(temp, digest);
    }
    return { mediaType, digest, size: bytes.length };
  }

  /** Moves a finished temporary file to its digest's name. */
  async adopt(tempFile: string, digest: string): Promise<void> {
    await mkdir(path.dirname(this.pathOf(digest)), { recursive: true });
    await rename(tempFile, this.pathOf(digest));
  }

  async read(digest: string): Promise<Buffer> {
    return readFile(this.pathOf(digest));
  }

  /** Checks a blob's bytes against its digest; a mismatch deletes the blob and throws. */
  async verify(descriptor: Descriptor): Promise<void> {
    const file = this.pathOf(descriptor.digest);
    const [actual, info] = await Promise.all([sha256OfFile(file), stat(file)]);
    if (actual !== descriptor.digest || info.size !== descriptor.size) {
      await rm(file, { force: true });
      throw new SkiffError(
        'SKIFF_IMAGE_INVALID',
        `blob ${descriptor.digest} is corrupt (got ${actual}, ${info.size} bytes)`,
      );
    }
  }

  /** Copies a blob from another store, hard-linking when both are on one file system. */
  async copyFrom(other: BlobStore, digest: string): Promise<void> {
    if (this.has(digest)) return;
    const temp = await this.tempPath();
    try {
      await link(other.pathOf(digest), temp);
    } catch {
      await copyFile(other.pathOf(digest), temp);
    }
    await this.adopt(temp, digest);
  }
}
