import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../../core/errors.js';

/** Image types the page may offer, by extension; everything else in the folder is invisible. */
export const SAMPLE_TYPES: Readonly<Record<string, string>> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
};

/** Larger files are not listed: a sample is uploaded again by the page, and must pass --max-body-bytes. */
export interface SampleImage {
  readonly name: string;
  readonly bytes: number;
  readonly type: string;
}

/**
 * The sample photos of `--ui-samples`: the image files directly in that folder. A name is served only if it
 * is in the current listing, so no path (`..`, `/`, a symlink out of the folder) can reach anything else.
 */
export class SampleImages {
  private constructor(
    private readonly dir: string | undefined,
    private readonly maxBytes: number,
  ) {}

  /** Checks the folder once at start-up, so a typo fails `skiff serve` rather than every page load. */
  static open(dir: string | undefined, maxBytes: number): SampleImages {
    if (dir !== undefined) {
      let isDirectory = false;
      try {
        isDirectory = statSync(dir).isDirectory();
      } catch {
        isDirectory = false;
      }
      if (!isDirectory)
        throw new SkiffError('SKIFF_CONFIG_INVALID', `option --ui-samples: ${dir} is not a readable folder`);
    }
    return new SampleImages(dir === undefined ? undefined : path.resolve(dir), maxBytes);
  }

  async list(): Promise<SampleImage[]> {
    if (this.dir === undefined) return [];
    const root = await realpath(this.dir);
    const found: SampleImage[] = [];
    for (const name of (await readdir(root)).sort()) {
      const type = SAMPLE_TYPES[path.extname(name).toLowerCase()];
      if (type === undefined || name.startsWith('.')) continue;
      const full = path.join(root, name);
      try {
        // Follow a symlink only if it stays inside the folder.
        const real = await realpath(full);
        if (path.dirname(real) !== root && !real.startsWith(root + path.sep)) continue;
        const info = await stat(real);
        if (info.isFile() && info.size > 0 && info.size <= this.maxBytes)
          found.push({ name, bytes: info.size, type });
      } catch {
        continue;
      }
    }
    return found;
  }

  /** The bytes of a listed sample; SKIFF_ROUTE_NOT_FOUND for any other name. */
  async read(name: string): Promise<{ readonly type: string; readonly bytes: Buffer }> {
    const sample = (await this.list()).find((s) => s.name === name);
    if (sample === undefined || this.dir === undefined)
      throw new SkiffError(
        'SKIFF_ROUTE_NOT_FOUND',
        `no sample image "${name.slice(0, 100)}"; GET /ui/api/samples lists them`,
      );
    return { type: sample.type, bytes: await readFile(path.join(await realpath(this.dir), sample.name)) };
  }
}
