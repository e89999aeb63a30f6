import { SkiffError } from '../errors.js';
import { MAX_JPEG_SCANS, countJpegScans } from './jpeg-scans.js';

/** Refuses a picture of more than `maxPixels` before any of its pixels is decoded. */
export function refuseOversized(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new SkiffError(
      'SKIFF_IMAGE_TOO_LARGE',
      `the image is ${width}x${height} (${width * height} pixels); the limit is ${maxPixels} pixels`,
    );
  }
}

/**
 * Refuses progressive JPEGs of more scans than MAX_JPEG_SCANS (jpeg-scans.ts), before any decoding. Only a
 * progressive frame can hold many scans: `progressive: false` (the markers vouch for a baseline frame) skips the
 * walk; undefined counts.
 */
export function refuseScanBombs(input: Uint8Array, progressive: boolean | undefined): void {
  if (progressive === false) return;
  if (countJpegScans(input, MAX_JPEG_SCANS) > MAX_JPEG_SCANS) {
    throw new SkiffError(
      'SKIFF_UNDECODABLE_IMAGE',
      `the JPEG has more than ${String(MAX_JPEG_SCANS)} scans; progressive JPEGs of at most ${String(MAX_JPEG_SCANS)} scans are accepted (encoders write about 10)`,
    );
  }
}

/** What the client reads for a file its decoder refused, whichever decoder it was. */
export function corruptImage(cause: unknown): SkiffError {
  return new SkiffError(
    'SKIFF_UNDECODABLE_IMAGE',
    'the image is corrupt or truncated and could not be decoded',
    {
      cause,
    },
  );
}
