import sharp from 'sharp';
import type { Metadata, OutputInfo, Sharp, SharpOptions } from 'sharp';
import type { DecodeRequest, ImageCodec, ImageHeader, RgbImage } from '../../core/preprocess/image-codec.js';
import { SkiffError } from '../../core/errors.js';
import { readJpegHeader } from '../../core/preprocess/jpeg-header.js';
import type { JpegHeader } from '../../core/preprocess/jpeg-header.js';
import type { StridedPixels } from '../../core/preprocess/resample-bilinear.js';
import { orientedPixels, resampleBilinear } from '../../core/preprocess/resample-bilinear.js';
import { isMainThread } from 'node:worker_threads';
import type { LibjpegDecoder } from '../libjpeg/libjpeg-decoder.js';
import { loadLibjpegDecoder } from '../libjpeg/libjpeg-decoder.js';
import {
  LibjpegImageDecoder,
  asBuffer,
  jpegLayout,
  undecodable,
  upright,
} from '../libjpeg/libjpeg-image-decoder.js';
import type { Region, ResizePlan } from '../../core/preprocess/resize-plan.js';
import { planResize, resamplesHere } from '../../core/preprocess/resize-plan.js';
import { corruptImage, refuseOversized, refuseScanBombs } from '../../core/preprocess/decode-refusals.js';

/** Formats accepted as uploads. SVG and PDF are left out on purpose: they are documents, not photos. */
export const SUPPORTED_IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif'] as const;

// libvips' operation cache only helps when the same file is processed again; uploads never are.
sharp.cache(false);

/**
 * ImageCodec on libvips (sharp), and on libjpeg for the JPEGs resized here: decoding runs on libuv's thread pool,
 * not on the caller's thread, except libjpeg's in an image thread (libjpegOnThisThread); so does the resize,
 * except for the pictures resized here (resamplesHere), whose resize runs on the caller's thread.
 */
export class SharpImageCodec implements ImageCodec {
  /** libjpeg on the calling thread, for an image thread. */
  private readonly here: LibjpegImageDecoder | undefined;
  /** libjpeg on libuv's thread pool, for a codec on the server's event loop. */
  private readonly pooled: LibjpegDecoder | undefined;

  /**
   * @param libjpeg decodes the JPEGs resized here (libvips without it).
   * @param libjpegOnThisThread on the calling thread, for an image thread; otherwise on libuv's thread pool, for
   *   a codec on the server's event loop.
   */
  constructor(libjpeg?: LibjpegDecoder, libjpegOnThisThread = false) {
    this.here = libjpeg !== undefined && libjpegOnThisThread ? new LibjpegImageDecoder(libjpeg) : undefined;
    this.pooled = libjpegOnThisThread ? undefined : libjpeg;
  }

  async probe(bytes: Uint8Array): Promise<ImageHeader> {
    if (bytes.length === 0) throw new SkiffError('SKIFF_EMPTY_IMAGE', 'the image is empty (0 bytes)');
    const input = asBuffer(bytes);
    const jpeg = readJpegHeader(input);
    const header = jpeg === undefined ? await readMetadata(input) : uprightHeader(jpeg);
    if (!(SUPPORTED_IMAGE_FORMATS as readonly string[]).includes(header.format)) {
      throw new SkiffError(
        'SKIFF_UNDECODABLE_IMAGE',
        `images in ${header.format} format are not accepted; send one of ${SUPPORTED_IMAGE_FORMATS.join(', ')}`,
      );
    }
    // Here, before the caller takes its share of the decode budget for the picture's size: scan bombs held
    // that budget until a thread got to decode them, and 32 at once left a legitimate upload a 503.
    if (header.format === 'jpeg') refuseScanBombs(input, jpeg?.progressive);
    return header;
  }

  async decode(request: DecodeRequest): Promise<RgbImage> {
    const decodedHere = this.here?.decode(request);
    if (decodedHere !== undefined) return decodedHere;
    const { header, maxPixels } = request;
    const input = asBuffer(request.bytes);
    const { width, height } = header;
    refuseOversized(width, height, maxPixels);
    // Again here: a header may come from another thread's probe, and decode() is a contract of its own.
    if (header.format === 'jpeg') refuseScanBombs(input, undefined);
    const plan = planResize(width, height, request);
    if (resamplesHere(plan, width, height)) {
      const pooled = this.pooled === undefined ? undefined : await libjpegOnPool(this.pooled, input, plan);
      if (pooled !== undefined) return pooled;
      const source = await decodeForResample(input, header, maxPixels);
      if (source !== undefined) return resampleBilinear(source, plan);
    }
    return decodeWithLibvips(input, header, plan, request);
  }
}

/** TIFF, AVIF and HEIF (16-bit samples, CMYK, other decoders than Pillow's) keep libvips' whole pipeline. */
const RESAMPLED_FORMATS: readonly string[] = ['jpeg', 'png', 'webp', 'gif'];

/**
 * The picture's 8-bit pixels as libvips decodes them, seen upright, alpha left out (as PIL's convert("RGB")
 * leaves it); undefined when it is not plain 8-bit grey or RGB, with or without alpha. A JPEG's EXIF orientation
 * only sets how its pixels are read; the other formats are turned by libvips (their EXIF is rare).
 */
async function decodeForResample(
  input: Buffer,
  header: ImageHeader,
  maxPixels: number,
): Promise<StridedPixels | undefined> {
  if (!RESAMPLED_FORMATS.includes(header.format)) return undefined;
  const jpeg = header.format === 'jpeg' ? readJpegHeader(input) : undefined;
  // A JPEG the marker reader does not vouch for (CMYK among others) keeps libvips' pipeline.
  if (header.format === 'jpeg' && jpeg === undefined) return undefined;
  const pipeline = sharp(input, options(maxPixels));
  const { data, info } = await run(jpeg === undefined ? pipeline.autoOrient().raw() : pipeline.raw());
  const orientation = jpeg?.orientation ?? 1;
  const [storedWidth, storedHeight] =
    orientation >= 5 ? [header.height, header.width] : [header.width, header.height];
  const { width, height, channels } = info;
  const plain = width === storedWidth && height === storedHeight && channels >= 1 && channels <= 4;
  if (!plain || data.length !== width * height * channels) return undefined;
  return orientedPixels(data, width, height, channels >= 3 ? 3 : 1, orientation, channels);
}

/**
 * A JPEG decoded by libjpeg on libuv's thread pool (into a buffer of its own: the pool's threads share no scratch)
 * and resized here; undefined when the markers or libjpeg say libvips should take it.
 */
async function libjpegOnPool(
  libjpeg: LibjpegDecoder,
  input: Buffer,
  plan: ResizePlan,
): Promise<RgbImage | undefined> {
  const jpeg = jpegLayout(input);
  if (jpeg === undefined) return undefined;
  const pixels = Buffer.allocUnsafe(jpeg.bytes);
  let decoded: boolean;
  try {
    decoded = await libjpeg.decodeAsync(input, pixels, jpeg.width, jpeg.height, jpeg.channels);
  } catch (error) {
    throw undecodable(error);
  }
  return decoded ? resampleBilinear(upright(pixels, jpeg), plan) : undefined;
}

async function decodeWithLibvips(
  input: Buffer,
  header: ImageHeader,
  plan: ResizePlan,
  request: DecodeRequest,
): Promise<RgbImage> {
  const { maxPixels } = request;
  // Alpha is dropped as PIL's convert("RGB") does, before resizing, so libvips never premultiplies by it. The
  // pixels go on raw: an uncompressed PNG in between gave the same bytes for a sixth more CPU.
  const opaque = header.hasAlpha
    ? await run(sharp(input, options(maxPixels)).autoOrient().removeAlpha().toColourspace('srgb').raw())
    : undefined;
  let pipeline =
    opaque === undefined
      ? sharp(input, options(maxPixels))
      : sharp(opaque.data, {
          ...options(maxPixels),
          raw: { width: opaque.info.width, height: opaque.info.height, channels: opaque.info.channels },
        });
  if (!header.hasAlpha) pipeline = pipeline.autoOrient();
  pipeline = pipeline.removeAlpha().toColourspace('srgb');
  if (plan.preCrop !== undefined) pipeline = pipeline.extract(plan.preCrop);
  pipeline = pipeline.resize(plan.resizeWidth, plan.resizeHeight, { fit: 'fill', kernel: 'linear' });
  // Asked to crop after an EXIF turn, libvips turns the whole picture first and so gives up decoding a JPEG at
  // reduced scale: a 12 Mpx phone photo stored sideways (orientation 6) cost 106 ms of CPU against 22 ms for the
  // same photo stored upright. Cropping the resized picture here keeps the reduced-scale decode (24 ms), the
  // pipeline an upright photo takes.
  const cropHere = plan.crop !== undefined && turnedJpeg(input, header) ? plan.crop : undefined;
  if (plan.crop !== undefined && cropHere === undefined) pipeline = pipeline.extract(plan.crop);
  const resized = (await run(pipeline.raw())).data;
  const pixels =
    cropHere === undefined ? resized : cropRgb(resized, plan.resizeWidth, plan.resizeHeight, cropHere);
  const expected = request.width * request.height * 3;
  if (pixels.length !== expected) {
    throw new SkiffError('SKIFF_UNDECODABLE_IMAGE', 'the image could not be converted to 8-bit RGB');
  }
  return {
    width: request.width,
    height: request.height,
    pixels: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length),
  };
}

function turnedJpeg(input: Buffer, header: ImageHeader): boolean {
  return header.format === 'jpeg' && (readJpegHeader(input)?.orientation ?? 1) !== 1;
}

/** `region` of a packed RGB picture; an empty buffer when the picture is not the size expected. */
function cropRgb(rgb: Buffer, width: number, height: number, region: Region): Buffer {
  if (rgb.length !== width * height * 3) return Buffer.alloc(0);
  const rowBytes = region.width * 3;
  const out = Buffer.allocUnsafe(region.height * rowBytes);
  for (let y = 0; y < region.height; y++) {
    const from = ((region.top + y) * width + region.left) * 3;
    rgb.copy(out, y * rowBytes, from, from + rowBytes);
  }
  return out;
}

/**
 * The codec a thread should use: an image thread (a worker that imports this module by its URL,
 * WorkerInit.imageCodecModule) decodes JPEGs with libjpeg on its own thread, the server's event loop on libuv's.
 */
export function createImageCodec(): ImageCodec {
  return new SharpImageCodec(loadLibjpegDecoder().decoder, !isMainThread);
}

/**
 * `ignoreIcc`: an embedded colour profile is left unapplied, as PIL leaves it (torchvision's models were trained on
 * pixels read that way), instead of sharp's conversion to sRGB, which changed a Display P3 photo's pixels and
 * cost as much CPU as the decode itself even for an sRGB profile, where it changes nothing (a 512x384 sRGB-tagged
 * JPEG: 14.6 ms of CPU with it, 7.3 without, the same bytes out). CMYK is still turned into RGB, by libvips'
 * generic CMYK profile.
 */
function options(maxPixels: number): SharpOptions {
  return { limitInputPixels: maxPixels, failOn: 'warning', sequentialRead: true, pages: 1, ignoreIcc: true };
}

/**
 * Most uploads are plain JPEGs whose markers already say what readMetadata would: reading them here saves
 * libvips a second pass over the file and the event loop the cost of a native call (about 1 ms of CPU per
 * request together). Files the marker reader does not vouch for go to libvips.
 */
function uprightHeader(jpeg: JpegHeader): ImageHeader {
  // Orientations 5..8 turn the picture a quarter, so its upright size swaps width and height.
  const turned = jpeg.orientation >= 5;
  return {
    format: 'jpeg',
    hasAlpha: false,
    width: turned ? jpeg.height : jpeg.width,
    height: turned ? jpeg.width : jpeg.height,
  };
}

async function readMetadata(input: Buffer): Promise<ImageHeader> {
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { limitInputPixels: false, pages: 1 }).metadata();
  } catch (error) {
    throw new SkiffError(
      'SKIFF_UNDECODABLE_IMAGE',
      'the upload is not an image Skiff can read (JPEG, PNG, WebP, GIF, TIFF or AVIF)',
      {
        cause: error,
      },
    );
  }
  const format = metadata.format as string | undefined;
  const oriented = metadata.autoOrient as { width?: number; height?: number } | undefined;
  if (format === undefined || oriented?.width === undefined || oriented.height === undefined) {
    throw new SkiffError('SKIFF_UNDECODABLE_IMAGE', 'the image has no readable size');
  }
  return { format, hasAlpha: metadata.hasAlpha, width: oriented.width, height: oriented.height };
}

async function run(pipeline: Sharp): Promise<{ data: Buffer; info: OutputInfo }> {
  try {
    return await pipeline.toBuffer({ resolveWithObject: true });
  } catch (error) {
    const detail = error instanceof Error ? error.message : '';
    if (/pixel limit/i.test(detail)) {
      throw new SkiffError('SKIFF_IMAGE_TOO_LARGE', 'the image has more pixels than the configured limit', {
        cause: error,
      });
    }
    throw corruptImage(error);
  }
}
