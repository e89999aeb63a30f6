import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BlobStore } from './blob-store.js';
import { sha256OfFile } from './blob-store.js';
import type { LayerBlob, LayerEntry, TarOptions } from './tar-layer.js';
import { normalizeEntries, writeTarLayer } from './tar-layer.js';

// Bumped whenever the tar or gzip output for the same entries changes.
const FORMAT = 'skiff-layer-v1';

/**
 * Layers keyed by their content: the key hashes every entry's path, type, mode, owner, link target and file
 * bytes (plus the mtime and zlib version), so an unchanged node_modules is found again without compressing it,
 * and any changed byte misses. Keys live in `<store>/layers/<key>.json`; blobs in the store itself.
 */
export class LayerCache {
  readonly store: BlobStore;

  constructor(store: BlobStore) {
    this.store = store;
  }

  async key(entries: readonly LayerEntry[], options: TarOptions): Promise<string> {
    const hash = createHash('sha256');
    hash.update(`${FORMAT}\n${process.versions.zlib}\n${options.mtimeSeconds}\n`);
    for (const entry of normalizeEntries(entries)) {
      const owner = `${entry.uid ?? 0}:${entry.gid ?? 0}`;
      let detail = '';
      if (entry.type === 'symlink') detail = entry.target;
      if (entry.type === 'file')
        detail =
          typeof entry.source === 'string'
            ? await sha256OfFile(entry.source)
            : createHash('sha256').update(entry.source).digest('hex');
      hash.update(
        `${entry.type}\u0000${entry.path}\u0000${entry.mode.toString(8)}\u0000${owner}\u0000${detail}\n`,
      );
    }
    return hash.digest('hex');
  }

  /** Returns the cached layer for these entries, or writes, records and returns it; `hit` says which. */
  async layer(
    entries: readonly LayerEntry[],
    options: TarOptions,
  ): Promise<LayerBlob & { readonly hit: boolean }> {
    const key = await this.key(entries, options);
    const record = path.join(this.store.root, 'layers', `${key}.json`);
    if (existsSync(record)) {
      const cached = JSON.parse(await readFile(record, 'utf8')) as LayerBlob;
      if (this.store.has(cached.descriptor.digest)) return { ...cached, hit: true };
    }
    const blob = await writeTarLayer(entries, this.store, options);
    await mkdir(path.dirname(record), { recursive: true });
    const temp = `${record}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(blob));
    await rename(temp, record);
    return { ...blob, hit: false };
  }
}
