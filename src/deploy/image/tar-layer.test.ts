import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { t as listTar } from 'tar';
import type { ReadEntry } from 'tar';
import { BlobStore } from './blob-store.js';
import { MEDIA_TYPES } from './media-types.js';
import type { LayerEntry } from './tar-layer.js';
import { normalizeEntries, writeTarLayer } from './tar-layer.js';

const made: string[] = [];
const tmp = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-tar-'));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
const text = (name: string, body: string, mode = 0o644): LayerEntry => {
  const bytes = Buffer.from(body);
  return { type: 'file', path: name, mode, size: bytes.length, source: bytes };
};
const LONG = `app/node_modules/${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(80)}/index.js`;
const VERY_LONG = `app/${'d'.repeat(120)}/${'e'.repeat(140)}.js`;

interface Listed {
  path: string;
  type: string;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  mtime: number | undefined;
  size: number;
  linkpath: string | undefined;
  uname: string | undefined;
}

/** Lists a tar with node-tar, an independent reader. */
async function list(file: string): Promise<Listed[]> {
  const entries: Listed[] = [];
  await listTar({
    file,
    onReadEntry: (entry: ReadEntry) => {
      entries.push({
        path: entry.path,
        type: entry.type,
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        mtime: entry.mtime?.getTime(),
        size: entry.size,
        linkpath: entry.linkpath,
        uname: entry.uname,
      });
    },
  });
  return entries;
}

function sample(sourceFile: string): LayerEntry[] {
  return [
    text('app/z.txt', 'last'),
    { type: 'symlink', path: 'app/link', mode: 0o777, target: 'z.txt' },
    text(LONG, 'long'),
    text(VERY_LONG, 'very long'),
    { type: 'file', path: 'app/bin/run', mode: 0o755, size: 5, source: sourceFile },
    { type: 'dir', path: 'app/cache', mode: 0o755, uid: 65532, gid: 65532 },
  ];
}

test('a layer lists every entry, sorted, with parents, numeric owners, fixed mtime and no user names', async () => {
  const dir = tmp();
  const source = path.join(dir, 'run');
  writeFileSync(source, 'echo\n');
  const store = new BlobStore(path.join(dir, 'store'));
  const layer = await writeTarLayer(sample(source), store, { mtimeSeconds: 1_700_000_000 });
  const entries = await list(store.pathOf(layer.descriptor.digest));
  assert.deepEqual(
    entries.map((e) => e.path),
    [
      'app/',
      'app/bin/',
      'app/bin/run',
      'app/cache/',
      `app/${'d'.repeat(120)}/`,
      VERY_LONG,
      'app/link',
      'app/node_modules/',
      `app/node_modules/${'a'.repeat(60)}/`,
      `app/node_modules/${'a'.repeat(60)}/${'b'.repeat(60)}/`,
      `app/node_modules/${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(80)}/`,
      LONG,
      'app/z.txt',
    ],
  );
  for (const entry of entries) {
    assert.equal(entry.mtime, 1_700_000_000_000, entry.path);
    assert.equal(entry.uname ?? '', '', entry.path);
  }
  const byPath = new Map(entries.map((e) => [e.path.replace(/\/$/, ''), e]));
  assert.equal(byPath.get('app/bin/run')?.mode, 0o755);
  assert.equal(byPath.get('app/z.txt')?.mode, 0o644);
  assert.equal(byPath.get('app/z.txt')?.size, 4);
  assert.equal(byPath.get('app/link')?.type, 'SymbolicLink');
  assert.equal(byPath.get('app/link')?.linkpath, 'z.txt');
  assert.deepEqual([byPath.get('app/cache')?.uid, byPath.get('app/cache')?.gid], [65532, 65532]);
  assert.deepEqual([byPath.get('app/bin')?.uid, byPath.get('app/bin')?.gid], [0, 0]);
  assert.equal(byPath.get(VERY_LONG)?.size, 9, 'a name over 255 bytes survives through a PAX header');
});

test('the same entries in any order give the same digests; one changed byte gives others', async () => {
  const dir = tmp();
  const source = path.join(dir, 'run');
  writeFileSync(source, 'echo\n');
  const options = { mtimeSeconds: 0 };
  const a = await writeTarLayer(sample(source), new BlobStore(path.join(dir, 'a')), options);
  const b = await writeTarLayer([...sample(source)].reverse(), new BlobStore(path.join(dir, 'b')), options);
  assert.deepEqual(b, a);
  writeFileSync(source, 'echO\n');
  const c = await writeTarLayer(sample(source), new BlobStore(path.join(dir, 'c')), options);
  assert.notEqual(c.descriptor.digest, a.descriptor.digest);
  assert.notEqual(c.diffId, a.diffId);
  const d = await writeTarLayer(sample(source), new BlobStore(path.join(dir, 'd')), { mtimeSeconds: 1 });
  assert.notEqual(d.diffId, c.diffId);
});

test('digest names the gzip blob, diffId the tar inside; the gzip header carries no time or name', async () => {
  const dir = tmp();
  const store = new BlobStore(path.join(dir, 'store'));
  const layer = await writeTarLayer([text('a.txt', 'hello')], store, { mtimeSeconds: 0 });
  const blob = readFileSync(store.pathOf(layer.descriptor.digest));
  assert.equal(layer.descriptor.mediaType, MEDIA_TYPES.ociLayerGzip);
  assert.equal(layer.descriptor.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.equal(layer.descriptor.size, blob.length);
  assert.equal(layer.descriptor.digest, `sha256:${createHash('sha256').update(blob).digest('hex')}`);
  const tar = gunzipSync(blob);
  assert.equal(layer.diffId, `sha256:${createHash('sha256').update(tar).digest('hex')}`);
  assert.deepEqual([...blob.subarray(0, 4)], [0x1f, 0x8b, 8, 0], 'gzip magic, deflate, no FNAME/FCOMMENT');
  assert.deepEqual([...blob.subarray(4, 8)], [0, 0, 0, 0], 'MTIME is zero');
  // Header, one 512-byte block of content, and the two zero blocks that end an archive.
  assert.equal(tar.length, 512 * 4);
  assert.equal(tar.subarray(257, 263).toString('latin1'), 'ustar\u0000');
  assert.ok(tar.subarray(512 * 2).every((byte) => byte === 0));
});

test('normalizeEntries refuses duplicates and paths that climb out of the root', () => {
  assert.throws(() => normalizeEntries([text('a', '1'), text('./a', '2')]), /twice/);
  assert.throws(() => normalizeEntries([text('../etc/passwd', 'x')]), /bad layer path/);
  assert.deepEqual(
    normalizeEntries([text('/x/y', '1')]).map((e) => e.path),
    ['x', 'x/y'],
  );
});

test('a file that changes size while being written fails the layer instead of corrupting it', async () => {
  const dir = tmp();
  const source = path.join(dir, 'f');
  writeFileSync(source, 'four');
  const entry: LayerEntry = { type: 'file', path: 'f', mode: 0o644, size: 3, source };
  await assert.rejects(writeTarLayer([entry], new BlobStore(dir), { mtimeSeconds: 0 }), /changed while/);
});
