import type { DecodeRequest, RgbImage, SyncImageDecoder } from '../../core/preprocess/image-codec.js';
import { readJpegHeader } from '../../core/preprocess/jpeg-header.js';
import type { StridedPixels } from '../../core/preprocess/resample-bilinear.js';
import { orientedPixels, resampleBilinear } from '../../core/preprocess/resample-bilinear.js';
import { planResize, resamplesHere } from '../../core/preprocess/resize-plan.js';
import { corruptImage, refuseOversized, refuseScanBombs } from '../../core/preprocess/decode-refusals.js';
import type { LibjpegDecoder } from './libjpeg-decoder.js';
import { loadLibjpegDecoder } from './libjpeg-decoder.js';

/**
 * The JPEGs a thread resizes itself (resamplesHere), decoded by libjpeg on that thread into one reused buffer and
 * resized in the same synchronous stretch. Other pictures, and files whose frame libjpeg finds other than the
 * markers said, are answered undefined: libvips takes them.
 */
export class LibjpegImageDecoder implements SyncImageDecoder {
  private scratch = Buffer.alloc(0);

  constructor(private readonly libjpeg: LibjpegDecoder) {}

  decode(request: DecodeRequest): RgbImage | undefined {
    const { header } = request;
    if (header.format !== 'jpeg') return undefined;
    const plan = planResize(header.width, header.height, request);
    if (!resamplesHere(plan, header.width, header.height)) return undefined;
    const input = asBuffer(request.bytes);
    const jpeg = jpegLayout(input);
    if (jpeg === undefined) return undefined;
    refuseOversized(header.width, header.height, request.maxPixels);
    // Again here: a header may come from another thread's probe, and decode() is a contract of its own.
    refuseScanBombs(input, undefined);
    const pixels = this.scratchFor(jpeg.bytes);
    const { width, height, channels } = jpeg;
    if (!libjpegDecoded(() => this.libjpeg.decode(input, pixels, width, height, channels))) return undefined;
    return resampleBilinear(upright(pixels, jpeg), plan);
  }

  /** Every picture decoded into one buffer, up to SCRATCH_MAX_BYTES: no allocation per request. */
  private scratchFor(bytes: number): Buffer {
    if (bytes > SCRATCH_MAX_BYTES) return Buffer.allocUnsafe(bytes);
    if (this.scratch.length < bytes) this.scratch = Buffer.allocUnsafe(bytes);
    return this.scratch.subarray(0, bytes);
  }
}

/** This thread's decoder, or undefined where the addon is not available (decoder-module.ts names this module). */
export function createSyncImageDecoder(): SyncImageDecoder | undefined {
  const { decoder } = loadLibjpegDecoder();
  return decoder === undefined ? undefined : new LibjpegImageDecoder(decoder);
}

/**
 * Allocating a fresh buffer per picture let glibc's allocator raise its mmap threshold and keep the freed ones in
 * the thread's arena: 36-43 MiB more RSS after the bench's photos. An ImageNet-sized photo needs about 0.6 MB.
 */
const SCRATCH_MAX_BYTES = 4 * 1024 * 1024;

export interface JpegLayout {
  /** Stored (not upright) size. */
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly orientation: number;
  readonly bytes: number;
}

/** What libjpeg will decode a JPEG the marker reader vouches for into. */
export function jpegLayout(input: Buffer): JpegLayout | undefined {
  const jpeg = readJpegHeader(input);
  if (jpeg === undefined) return undefined;
  const channels = jpeg.components === 1 ? 1 : 3;
  const { width, height, orientation } = jpeg;
  return { width, height, channels, orientation, bytes: width * height * channels };
}

export function upright(pixels: Buffer, jpeg: JpegLayout): StridedPixels {
  return orientedPixels(pixels, jpeg.width, jpeg.height, jpeg.channels, jpeg.orientation, jpeg.channels);
}

/**
 * libjpeg's answer (with the settings libvips uses, so the same pixels): false when it sees another file than
 * the markers said, which libvips then decodes; what it reports (warnings included) is the upload's fault.
 */
function libjpegDecoded(decode: () => boolean): boolean {
  try {
    return decode();
  } catch (error) {
    throw undecodable(error);
  }
}

/** libjpeg's refusals are the upload's fault; anything else (wrong arguments) is a bug, and stays one. */
export function undecodable(cause: unknown): unknown {
  return (cause as { code?: unknown } | undefined)?.code === 'SKIFF_JPEG_DECODE'
    ? corruptImage(cause)
    : cause;
}

/** The addon takes Buffers; an upload may come as a plain Uint8Array (a view, not a copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
