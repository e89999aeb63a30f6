import { SkiffError } from '../errors.js';

/**
 * The pixels of images being decoded at this moment, server-wide. A decoder holds a whole image in memory
 * whatever its file size (a 100 KB PNG may unpack to 160 MB), so requests take their image's share before
 * decoding, and one that does not fit gets a fast 503 instead of adding to the heap: memory stays bounded by
 * the budget, not by how many uploads arrive together.
 */
export class PixelBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes `pixels` or throws SKIFF_DECODE_BUSY; the returned function gives them back (once). */
  take(pixels: number): () => void {
    if (this.used + pixels > this.limit && this.used > 0) {
      throw new SkiffError(
        'SKIFF_DECODE_BUSY',
        `too many large images are being decoded right now (${this.used} of ${this.limit} pixels, --max-decode-pixels); retry shortly`,
      );
    }
    this.used += pixels;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.used -= pixels;
    };
  }
}
