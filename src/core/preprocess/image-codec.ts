import type { ResizeMode } from '../model/model-config.js';

/** What an image's header says, read without decoding its pixels. */
export interface ImageHeader {
  readonly format: string;
  /** Upright size: EXIF orientation applied. */
  readonly width: number;
  readonly height: number;
  readonly hasAlpha: boolean;
}

export interface DecodeRequest {
  readonly bytes: Uint8Array;
  /** From `probe` on the same bytes. */
  readonly header: ImageHeader;
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
 * from EXIF applied, grey-scale expanded to RGB, alpha dropped. Called once or twice per request (probe, then
 * decode), concurrently. Neither may decode on the caller's event loop; `decode` may resize there when that is
 * cheap (a picture shrunk by less than half: about 0.5 ms for an ImageNet-sized photo), which for most
 * requests is a model's worker thread anyway.
 * `probe` reads only the header: it throws SKIFF_EMPTY_IMAGE or SKIFF_UNDECODABLE_IMAGE (not an image, a format
 * not accepted). `decode` throws SKIFF_UNDECODABLE_IMAGE (corrupt or truncated) or SKIFF_IMAGE_TOO_LARGE (the
 * pixels exceed maxPixels after all).
 */
export interface ImageCodec {
  probe(bytes: Uint8Array): Promise<ImageHeader>;
  decode(request: DecodeRequest): Promise<RgbImage>;
}

/**
 * Decodes and resizes, synchronously on the calling thread, the uploads it has a fast path for (an ImageNet-sized
 * JPEG takes about 1.5 ms); `decode` answers undefined for the others, which an ImageCodec then takes. It throws
 * what ImageCodec.decode throws.
 */
export interface SyncImageDecoder {
  decode(request: DecodeRequest): RgbImage | undefined;
}
