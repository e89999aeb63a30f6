import sharp from 'sharp';
import type { Metadata, Sharp, SharpOptions } from 'sharp';
import type { DecodeRequest, ImageCodec, RgbImage } from '../../core/preprocess/image-codec.js';
import { SkiffError } from '../../core/errors.js';
import { readJpegHeader } from '../../core/preprocess/jpeg-header.js';

/** Formats accepted as uploads. SVG and PDF are left out on purpose: they are documents, not photos. */
export const SUPPORTED_IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif'] as const;

// libvips' operation cache only helps when the same file is processed again; uploads never are.
sharp.cache(false);

/** ImageCodec on libvips (sharp): decoding and resizing run on libuv's thread pool, never on the event loop. */
export class SharpImageCodec implements ImageCodec {
  async decode(request: DecodeRequest): Promise<RgbImage> {
    const { bytes, maxPixels } = request;
    if (bytes.length === 0) throw new SkiffError('SKIFF_EMPTY_IMAGE', 'the image is empty (0 bytes)');
    const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const metadata = headerFromMarkers(input) ?? (await readMetadata(input));
    const format = metadata.format;
    if (!(SUPPORTED_IMAGE_FORMATS as readonly string[]).includes(format)) {
      throw new SkiffError(
        'SKIFF_UNDECODABLE_IMAGE',
        `images in ${format} format are not accepted; send one of ${SUPPORTED_IMAGE_FORMATS.join(', ')}`,
      );
    }
    const width = metadata.autoOrient.width;
    const height = metadata.autoOrient.height;
    if (width * height > maxPixels) {
      throw new SkiffError(
        'SKIFF_IMAGE_TOO_LARGE',
        `the image is ${width}x${height} (${width * height} pixels); the limit is ${maxPixels} pixels`,
      );
    }
    // Alpha is dropped as PIL's convert("RGB") does, before resizing, so libvips never premultiplies by it.
    const source = metadata.hasAlpha
      ? await run(
          sharp(input, options(maxPixels))
            .autoOrient()
            .removeAlpha()
            .toColourspace('srgb')
            .png({ compressionLevel: 0 }),
        )
      : input;
    const plan = planResize(width, height, request);
    let pipeline = sharp(source, options(maxPixels));
    if (!metadata.hasAlpha) pipeline = pipeline.autoOrient();
    pipeline = pipeline
      .removeAlpha()
      .toColourspace('srgb')
      .resize(plan.resizeWidth, plan.resizeHeight, { fit: 'fill', kernel: 'linear' });
    if (plan.crop !== undefined) pipeline = pipeline.extract(plan.crop);
    const pixels = await run(pipeline.raw());
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
}

export interface ResizePlan {
  readonly resizeWidth: number;
  readonly resizeHeight: number;
  readonly crop?: { left: number; top: number; width: number; height: number };
}

/**
 * Same arithmetic as torchvision's Resize(shorter side) + CenterCrop on PIL images, so results line up with
 * models trained that way: the longer side is truncated, the crop offset rounded half to even.
 */
export function planResize(
  width: number,
  height: number,
  request: Omit<DecodeRequest, 'bytes' | 'maxPixels'>,
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
  return {
    resizeWidth,
    resizeHeight,
    crop: {
      left: roundHalfEven((resizeWidth - cropWidth) / 2),
      top: roundHalfEven((resizeHeight - cropHeight) / 2),
      width: cropWidth,
      height: cropHeight,
    },
  };
}

function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function options(maxPixels: number): SharpOptions {
  return { limitInputPixels: maxPixels, failOn: 'warning', sequentialRead: true, pages: 1 };
}

interface ImageHeader {
  readonly format: string;
  readonly hasAlpha: boolean;
  readonly autoOrient: { readonly width: number; readonly height: number };
}

/**
 * Most uploads are plain JPEGs whose markers already say what readMetadata would: reading them here saves
 * libvips a second pass over the file and the event loop the cost of a native call (about 1 ms of CPU per
 * request together). Files the marker reader does not vouch for go to libvips.
 */
function headerFromMarkers(input: Buffer): ImageHeader | undefined {
  const jpeg = readJpegHeader(input);
  if (jpeg === undefined) return undefined;
  // Orientations 5..8 turn the picture a quarter, so its upright size swaps width and height.
  const turned = jpeg.orientation >= 5;
  return {
    format: 'jpeg',
    hasAlpha: false,
    autoOrient: turned
      ? { width: jpeg.height, height: jpeg.width }
      : { width: jpeg.width, height: jpeg.height },
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
  return {
    format,
    hasAlpha: metadata.hasAlpha,
    autoOrient: { width: oriented.width, height: oriented.height },
  };
}

async function run(pipeline: Sharp): Promise<Buffer> {
  try {
    return await pipeline.toBuffer();
  } catch (error) {
    const detail = error instanceof Error ? error.message : '';
    if (/pixel limit/i.test(detail)) {
      throw new SkiffError('SKIFF_IMAGE_TOO_LARGE', 'the image has more pixels than the configured limit', {
        cause: error,
      });
    }
    throw new SkiffError(
      'SKIFF_UNDECODABLE_IMAGE',
      'the image is corrupt or truncated and could not be decoded',
      { cause: error },
    );
  }
}
