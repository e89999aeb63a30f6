import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { SkiffError } from '../../core/errors.js';
import type { BlobStore } from './blob-store.js';
import type { Descriptor } from './media-types.js';
import { MEDIA_TYPES } from './media-types.js';

interface EntryBase {
  /** Relative to the image root, "/"-separated, no leading "/" (e.g. "app/package.json"). */
  readonly path: string;
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
}

/** One item of a layer. File contents come from a file on disk or from memory. */
export type LayerEntry =
  | (EntryBase & { readonly type: 'dir' })
  | (EntryBase & { readonly type: 'file'; readonly size: number; readonly source: string | Uint8Array })
  | (EntryBase & { readonly type: 'symlink'; readonly target: string });

/** A written layer: `digest` names the gzip'd blob, `diffId` the uncompressed tar (the image config lists those). */
export interface LayerBlob {
  readonly descriptor: Descriptor;
  readonly diffId: string;
}

export interface TarOptions {
  /** Seconds since the epoch stamped on every entry; the same value gives the same bytes. */
  readonly mtimeSeconds: number;
}

const BLOCK = 512;
const USTAR_MAX_OCTAL_11 = 0o77777777777;

/**
 * Adds the parent directories an entry list leaves out (mode 0755, root-owned) and sorts by path, so the
 * same files always produce the same tar regardless of the order they were found in. Duplicate paths throw.
 */
export function normalizeEntries(entries: readonly LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const entry of entries) {
    const clean = cleanPath(entry.path);
    if (byPath.has(clean)) throw new SkiffError('SKIFF_IMAGE_INVALID', `layer lists "${clean}" twice`);
    byPath.set(clean, { ...entry, path: clean });
  }
  for (const clean of [...byPath.keys()]) {
    const parts = clean.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!byPath.has(parent)) byPath.set(parent, { type: 'dir', path: parent, mode: 0o755 });
    }
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function cleanPath(raw: string): string {
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..'))
    throw new SkiffError('SKIFF_IMAGE_INVALID', `bad layer path "${raw}"`);
  return parts.join('/');
}

/** The tar bytes of one entry's header(s): a PAX header first when a field does not fit ustar. */
export function tarHeader(entry: LayerEntry, options: TarOptions): Buffer {
  const name = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const size = entry.type === 'file' ? entry.size : 0;
  const linkname = entry.type === 'symlink' ? entry.target : '';
  const pax: Record<string, string> = {};
  const split = splitUstarName(name);
  if (split === undefined) pax.path = name;
  if (Buffer.byteLength(linkname) > 100) pax.linkpath = linkname;
  if (size > USTAR_MAX_OCTAL_11) pax.size = String(size);
  const main = ustarBlock({
    name: split?.name ?? name.slice(0, 99),
    prefix: split?.prefix ?? '',
    mode: entry.mode,
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    size: pax.size === undefined ? size : 0,
    mtime: options.mtimeSeconds,
    typeflag: entry.type === 'file' ? '0' : entry.type === 'dir' ? '5' : '2',
    linkname: pax.linkpath === undefined ? linkname : '',
  });
  if (Object.keys(pax).length === 0) return main;
  const records = Object.keys(pax)
    .sort()
    .map((key) => paxRecord(key, pax[key] ?? ''))
    .join('');
  const body = Buffer.from(records, 'utf8');
  const paxHeader = ustarBlock({
    name: `PaxHeaders/${name}`.slice(0, 99),
    prefix: '',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: options.mtimeSeconds,
    typeflag: 'x',
    linkname: '',
  });
  return Buffer.concat([paxHeader, body, Buffer.alloc(padding(body.length)), main]);
}

function paxRecord(key: string, value: string): string {
  // The record's length counts its own decimal digits, so grow until it is stable.
  const rest = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(rest) + 1;
  while (String(length).length + Buffer.byteLength(rest) !== length) length++;
  return `${length}${rest}`;
}

function splitUstarName(name: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { name, prefix: '' };
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '')
      return { name: rest, prefix };
  }
  return undefined;
}

interface UstarFields {
  readonly name: string;
  readonly prefix: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: string;
  readonly linkname: string;
}

function ustarBlock(fields: UstarFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, 100, 'utf8');
  octal(block, 100, 8, fields.mode & 0o7777);
  octal(block, 108, 8, fields.uid);
  octal(block, 116, 8, fields.gid);
  octal(block, 124, 12, fields.size);
  octal(block, 136, 12, fields.mtime);
  block.fill(0x20, 148, 156);
  block.write(fields.typeflag, 156, 1, 'ascii');
  block.write(fields.linkname, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'ascii');
  octal(block, 329, 8, 0);
  octal(block, 337, 8, 0);
  block.write(fields.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

function octal(block: Buffer, offset: number, width: number, value: number): void {
  const text = value.toString(8).padStart(width - 1, '0');
  if (text.length > width - 1) throw new SkiffError('SKIFF_IMAGE_INVALID', `tar field too large: ${value}`);
  block.write(`${text}\u0000`, offset, width, 'ascii');
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The uncompressed tar stream of already-normalized entries; file sizes are checked as they are read. */
export async function* tarStream(
  entries: readonly LayerEntry[],
  options: TarOptions,
): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield tarHeader(entry, options);
    if (entry.type !== 'file') continue;
    let read = 0;
    if (typeof entry.source === 'string') {
      for await (const chunk of createReadStream(entry.source)) {
        read += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    } else {
      read = entry.source.length;
      yield Buffer.from(entry.source);
    }
    if (read !== entry.size)
      throw new SkiffError(
        'SKIFF_IMAGE_INVALID',
        `${typeof entry.source === 'string' ? entry.source : entry.path} changed while the layer was written`,
      );
    const pad = padding(entry.size);
    if (pad > 0) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/**
 * Writes entries as a gzip'd tar blob into the store. Deterministic: sorted entries, fixed mtime, numeric
 * owners and no user names, and a gzip header without a name or time, so the same input gives the same digest
 * (for one zlib version; the diffId never depends on zlib).
 */
export async function writeTarLayer(
  entries: readonly LayerEntry[],
  store: BlobStore,
  options: TarOptions,
): Promise<LayerBlob> {
  const normalized = normalizeEntries(entries);
  const uncompressed = createHash('sha256');
  const compressed = createHash('sha256');
  let size = 0;
  const temp = await store.tempPath();
  try {
    await pipeline(
      tarStream(normalized, options),
      tap((chunk) => uncompressed.update(chunk)),
      createGzip({ level: 6 }),
      tap((chunk) => {
        compressed.update(chunk);
        size += chunk.length;
      }),
      createWriteStream(temp),
    );
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  const digest = `sha256:${compressed.digest('hex')}`;
  await store.adopt(temp, digest);
  return {
    descriptor: { mediaType: MEDIA_TYPES.ociLayerGzip, digest, size },
    diffId: `sha256:${uncompressed.digest('hex')}`,
  };
}

function tap(onChunk: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onChunk(chunk);
      callback(null, chunk);
    },
  });
}
