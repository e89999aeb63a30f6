import type { DecodeRequest } from './image-codec.js';
import { roundHalfEven } from '../tensor/tensor.js';

export interface ResizePlan {
  /** For extreme aspect ratios only: the part of the source that the final crop will show, cut first. */
  readonly preCrop?: Region;
  readonly resizeWidth: number;
  readonly resizeHeight: number;
  readonly crop?: Region;
}

export interface Region {
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

/**
 * Whether the decoding thread resizes the picture itself, exactly as torchvision's Resize + CenterCrop do on PIL
 * images (resample-bilinear.ts): pictures that shrink by less than half. About 1 ms less CPU per ImageNet-sized
 * photo than libvips' resize, and the model sees the pixels it was trained on. Larger pictures stay with libvips,
 * which decodes a JPEG at 1/2 to 1/8 scale straight from its DCT.
 */
export function resamplesHere(plan: ResizePlan, width: number, height: number): boolean {
  const shrinksLittle = plan.resizeWidth * 2 > width && plan.resizeHeight * 2 > height;
  return plan.preCrop === undefined && shrinksLittle && width * height <= RESAMPLE_MAX_PIXELS;
}

/**
 * The resize's WebAssembly memory grows to the largest picture it was given and keeps that size for the
 * thread's life: a model whose input is large enough to make big pictures qualify leaves them to libvips.
 */
const RESAMPLE_MAX_PIXELS = 4_194_304;
