import type { ResizeMode } from '../model/model-config.js';

export interface DecodeRequest {
  readonly bytes: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly resizeMode: ResizeMode;
  readonly resizeShorterSide: number;
  /** Images with more pixels than this are refused before their pixels are decoded. */
  readonly maxPixels: number;
}

/** Interleaved 8-bit RGB pixels, row-major, exactly width x height x 3 bytes. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
}

/**
 * Decodes an encoded image (JPEG, PNG, WebP, GIF, TIFF, AVIF...) and brings it to the model's size: orientation
 * from EXIF applied, grey-scale expanded to RGB, alpha dropped. Called once per request, concurrently; the
 * work must not run on the caller's event loop. Throws SkiffError SKIFF_UNDECODABLE_IMAGE for bytes that are
 * not a supported image, SKIFF_IMAGE_TOO_LARGE when the header claims more than maxPixels.
 */
export interface ImageCodec {
  decode(request: DecodeRequest): Promise<RgbImage>;
}
