import sharp from 'sharp';
import type { Metadata, OutputInfo, Sharp, SharpOptions } from 'sharp';
import type { DecodeRequest, ImageCodec, ImageHeader, RgbImage } from '../../core/preprocess/image-codec.js';
import { SkiffError } from '../../core/errors.js';
import { readJpegHeader } from '../../core/preprocess/jpeg-header.js';
import type { JpegHeader } from '../../core/preprocess/jpeg-header.js';
import { MAX_JPEG_SCANS, countJpegScans } from '../../core/preprocess/jpeg-scans.js';
import type { StridedPixels } from '../../core/preprocess/resample-bilinear.js';
import { orientedPixels, resampleBilinear } from '../../core/preprocess/resample-bilinear.js';
import { isMainThread } from 'node:worker_threads';
import type { LibjpegDecoder } from '../libjpeg/libjpeg-decoder.js';
import { loadLibjpegDecoder } from '../libjpeg/libjpeg-decoder.js';

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
  /**
   * @param libjpeg decodes the JPEGs resized here (libvips without it).
   * @param libjpegOnThisThread on the calling thread, for an image thread; otherwise on libuv's thread pool, for
   *   a codec on the server's event loop.
   */
  constructor(
    private readonly libjpeg?: LibjpegDecoder,
    private readonly libjpegOnThisThread = false,
  ) {}

  private scratch = Buffer.alloc(0);

  /** The image thread decodes every picture into one buffer, up to SCRATCH_MAX_BYTES: no allocation per request. */
  private scratchFor(bytes: number): Buffer {
    if (bytes > SCRATCH_MAX_BYTES) return Buffer.allocUnsafe(bytes);
    if (this.scratch.length < bytes) this.scratch = Buffer.allocUnsafe(bytes);
    return this.scratch.subarray(0, bytes);
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
    const { header, maxPixels } = request;
    const input = asBuffer(request.bytes);
    const { width, height } = header;
    if (width * height > maxPixels) {
      throw new SkiffError(
        'SKIFF_IMAGE_TOO_LARGE',
        `the image is ${width}x${height} (${width * height} pixels); the limit is ${maxPixels} pixels`,
      );
    }
    // Again here: a header may come from another thread's probe, and decode() is a contract of its own.
    if (header.format === 'jpeg') refuseScanBombs(input, undefined);
    const plan = planResize(width, height, request);
    if (resamplesHere(plan, width, height)) {
      const jpeg = this.libjpeg === undefined ? undefined : jpegLayout(input);
      if (this.libjpeg !== undefined && jpeg !== undefined) {
        const { libjpeg } = this;
        const [w, h, c] = [jpeg.width, jpeg.height, jpeg.channels];
        if (this.libjpegOnThisThread) {
          // Decoded and resized in one synchronous stretch, so the scratch buffer is free again on return.
          const pixels = this.scratchFor(jpeg.bytes);
          if (libjpegDecoded(() => libjpeg.decode(input, pixels, w, h, c)))
            return resampleBilinear(upright(pixels, jpeg), plan);
        } else {
          const pixels = Buffer.allocUnsafe(jpeg.bytes);
          if (await libjpegDecodedOnPool(libjpeg.decodeAsync(input, pixels, w, h, c)))
            return resampleBilinear(upright(pixels, jpeg), plan);
        }
      }
      const source = await decodeForResample(input, header, maxPixels);
      if (source !== undefined) return resampleBilinear(source, plan);
    }
    return decodeWithLibvips(input, header, plan, request);
  }
}

/**
 * Pictures that shrink by less than half are decoded by libvips (libjpeg-turbo, libpng, libwebp and giflib give
 * the pixels Pillow gets from them) and resized here, exactly as torchvision's Resize + CenterCrop do on PIL
 * images (resample-bilinear.ts): about 1 ms less CPU per ImageNet-sized photo than libvips' resize, and the model
 * sees the pixels it was trained on. Larger pictures stay with libvips, which decodes a JPEG at 1/2 to 1/8 scale
 * straight from its DCT.
 */
function resamplesHere(plan: ResizePlan, width: number, height: number): boolean {
  const shrinksLittle = plan.resizeWidth * 2 > width && plan.resizeHeight * 2 > height;
  return plan.preCrop === undefined && shrinksLittle && width * height <= RESAMPLE_MAX_PIXELS;
}

/**
 * The resize's WebAssembly memory grows to the largest picture it was given and keeps that size for the
 * thread's life: a model whose input is large enough to make big pictures qualify leaves them to libvips.
 */
const RESAMPLE_MAX_PIXELS = 4_194_304;

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
 * Allocating a fresh buffer per picture let glibc's allocator raise its mmap threshold and keep the freed ones in
 * the thread's arena: 36-43 MiB more RSS after the bench's photos. An ImageNet-sized photo needs about 0.6 MB.
 */
const SCRATCH_MAX_BYTES = 4 * 1024 * 1024;

interface JpegLayout {
  /** Stored (not upright) size. */
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly orientation: number;
  readonly bytes: number;
}

/** What libjpeg will decode a JPEG the marker reader vouches for into. */
function jpegLayout(input: Buffer): JpegLayout | undefined {
  const jpeg = readJpegHeader(input);
  if (jpeg === undefined) return undefined;
  const channels = jpeg.components === 1 ? 1 : 3;
  const { width, height, orientation } = jpeg;
  return { width, height, channels, orientation, bytes: width * height * channels };
}

function upright(pixels: Buffer, jpeg: JpegLayout): StridedPixels {
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

async function libjpegDecodedOnPool(decoding: Promise<boolean>): Promise<boolean> {
  try {
    return await decoding;
  } catch (error) {
    throw undecodable(error);
  }
}

/** libjpeg's refusals are the upload's fault; anything else (wrong arguments) is a bug, and stays one. */
function undecodable(cause: unknown): unknown {
  return (cause as { code?: unknown } | undefined)?.code === 'SKIFF_JPEG_DECODE' ? corrupt(cause) : cause;
}

/** What the client reads for a file its decoder refused, whichever decoder it was. */
function corrupt(cause: unknown): SkiffError {
  return new SkiffError(
    'SKIFF_UNDECODABLE_IMAGE',
    'the image is corrupt or truncated and could not be decoded',
    {
      cause,
    },
  );
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

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface ResizePlan {
  /** For extreme aspect ratios only: the part of the source that the final crop will show, cut first. */
  readonly preCrop?: Region;
  readonly resizeWidth: number;
  readonly resizeHeight: number;
  readonly crop?: Region;
}

interface Region {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Beyond this many times the final crop's pixels, the resized intermediate is not made: a 1 x 400000 strip
 * would otherwise be stretched to 256 x 102 million pixels before being cropped.
 */
const MAX_INTERMEDIATE_FACTOR = 16;

/**
 * Same arithmetic as torchvision's Resize(shorter side) + CenterCrop on PIL images, so results line up with
 * models trained that way: the longer side is truncated, the crop offset rounded half to even. For an image
 * so elongated that the resized intermediate would be huge, the source region the crop shows is cut first
 * and resized straight to the crop (the same picture, up to edge interpolation).
 */
export function planResize(
  width: number,
  height: number,
  request: Pick<DecodeRequest, 'width' | 'height' | 'resizeMode' | 'resizeShorterSide'>,
): ResizePlan {
  if (request.resizeMode === 'stretch') return { resizeWidth: request.width, resizeHeight: request.height };
  const shorter = request.resizeShorterSide;
  const [resizeWidth, resizeHeight] =
    width <= height
      ? [shorter, Math.max(shorter, Math.trunc((shorter * height) / width))]
      : [Math.max(shorter, Math.trunc((shorter * width) / height)), shorter];
  const cropWidth = Math.min(request.width, resizeWidth);
  const cropHeight = Math.min(request.height, resizeHeight);
  if (cropWidth < request.width || cropHeight < request.height) {
    // The shorter side was set below the crop size: stretch instead of answering with a partial image.
    return { resizeWidth: request.width, resizeHeight: request.height };
  }
  const crop = {
    left: roundHalfEven((resizeWidth - cropWidth) / 2),
    top: roundHalfEven((resizeHeight - cropHeight) / 2),
    width: cropWidth,
    height: cropHeight,
  };
  if (resizeWidth * resizeHeight <= MAX_INTERMEDIATE_FACTOR * shorter * shorter)
    return { resizeWidth, resizeHeight, crop };
  const preCrop = sourceRegion(crop, width / resizeWidth, height / resizeHeight, width, height);
  return { preCrop, resizeWidth: cropWidth, resizeHeight: cropHeight };
}

/** The source pixels a crop of the resized image covers, at least one pixel each way, inside the image. */
function sourceRegion(crop: Region, scaleX: number, scaleY: number, width: number, height: number): Region {
  const left = Math.min(width - 1, Math.floor(crop.left * scaleX));
  const top = Math.min(height - 1, Math.floor(crop.top * scaleY));
  return {
    left,
    top,
    width: Math.max(1, Math.min(width - left, Math.round(crop.width * scaleX))),
    height: Math.max(1, Math.min(height - top, Math.round(crop.height * scaleY))),
  };
}

function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
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
 * Refuses progressive JPEGs of more scans than MAX_JPEG_SCANS (jpeg-scans.ts), before any decoding. Only a
 * progressive frame can hold many scans: `progressive: false` (the markers vouch for a baseline frame) skips the
 * walk; undefined counts.
 */
function refuseScanBombs(input: Buffer, progressive: boolean | undefined): void {
  if (progressive === false) return;
  if (countJpegScans(input, MAX_JPEG_SCANS) > MAX_JPEG_SCANS) {
    throw new SkiffError(
      'SKIFF_UNDECODABLE_IMAGE',
      `the JPEG has more than ${String(MAX_JPEG_SCANS)} scans; progressive JPEGs of at most ${String(MAX_JPEG_SCANS)} scans are accepted (encoders write about 10)`,
    );
  }
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
    throw corrupt(error);
  }
}
