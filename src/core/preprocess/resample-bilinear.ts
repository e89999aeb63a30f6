import type { RgbImage } from './image-codec.js';
import type { ResampleKernels } from './resample-kernels.js';
import { createResampleKernels } from './resample-kernels.js';

/**
 * Decoded pixels as they lie in memory, seen upright: upright pixel (x, y) starts at byte
 * `origin + x * stepX + y * stepY`. An EXIF orientation is then only a choice of origin and steps, so the
 * picture is never turned in memory.
 */
export interface StridedPixels {
  readonly pixels: Uint8Array;
  /** Upright size. */
  readonly width: number;
  readonly height: number;
  /** 1 (grey, expanded to R = G = B) or 3 (RGB): the bytes read at the start of each pixel. */
  readonly channels: 1 | 3;
  readonly origin: number;
  readonly stepX: number;
  readonly stepY: number;
}

/** Resize the upright picture to resizeWidth x resizeHeight, then keep the crop (the whole of it if absent). */
export interface ResampleTarget {
  readonly resizeWidth: number;
  readonly resizeHeight: number;
  readonly crop?: {
    readonly left: number;
    readonly top: number;
    readonly width: number;
    readonly height: number;
  };
}

// Pillow's fixed point for 8-bit images: 32 bits less 8 for the pixel and 2 for the sum's headroom.
const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);

/**
 * Pillow's `Image.resize(size, BILINEAR)` on an RGB image followed by `crop`, which is what torchvision's
 * Resize + CenterCrop run on PIL images: the same coefficients (a triangle filter widened by the scale when
 * shrinking, so it antialiases), the same 22-bit fixed point and rounding, a horizontal pass then a vertical
 * one with the intermediate rounded to 8 bits. Only the cropped pixels are computed; each output pixel depends
 * on its own coefficients alone, so they equal Pillow's. Runs on the calling thread.
 */
export function resampleBilinear(source: StridedPixels, target: ResampleTarget): RgbImage {
  const plan = planOf(source, target);
  const { columns, rows, lastRow, firstRow } = plan;
  const kernels = source.channels === 3 ? resampleKernels() : undefined;
  const columns4 = kernels === undefined ? undefined : fourTaps(columns, source.width);
  const rows4 = columns4 === undefined ? undefined : fourTaps(rows, lastRow, firstRow);
  if (kernels !== undefined && columns4 !== undefined && rows4 !== undefined)
    return resampleWithKernels(kernels, source, plan, columns4, rows4);
  return resampleInJavaScript(source, plan);
}

function planOf(source: StridedPixels, target: ResampleTarget): Plan {
  const crop = target.crop ?? { left: 0, top: 0, width: target.resizeWidth, height: target.resizeHeight };
  const columns = coefficients(source.width, target.resizeWidth, crop.left, crop.width);
  const rows = coefficients(source.height, target.resizeHeight, crop.top, crop.height);
  const firstRow = rows.bounds[0] ?? 0;
  const lastRow = (rows.bounds[2 * (crop.height - 1)] ?? 0) + (rows.bounds[2 * crop.height - 1] ?? 0);
  return { crop, columns, rows, firstRow, lastRow };
}

interface Plan {
  readonly crop: NonNullable<ResampleTarget['crop']>;
  readonly columns: Coefficients;
  readonly rows: Coefficients;
  /** The source rows the cropped outputs read: [firstRow, lastRow). */
  readonly firstRow: number;
  readonly lastRow: number;
}

// One instance per thread, made on first use; null until then, undefined where WebAssembly SIMD is missing.
let kernels: ResampleKernels | undefined | null = null;

function resampleKernels(): ResampleKernels | undefined {
  if (kernels === null) kernels = createResampleKernels();
  return kernels;
}

/** Both passes in WebAssembly; the source is copied into its memory, the result copied out. */
function resampleWithKernels(
  k: ResampleKernels,
  source: StridedPixels,
  plan: Plan,
  columns: FourTaps,
  rows: FourTaps,
): RgbImage {
  const { crop, firstRow, lastRow } = plan;
  const rowWidth = crop.width * 3;
  // Each area starts 16-byte aligned and has 16 spare bytes after it (the kernels' blocks of 4 and 8 bytes).
  let end = 0;
  const place = (bytes: number): number => {
    const at = end;
    end = at + Math.ceil((bytes + 16) / 16) * 16;
    return at;
  };
  const pixelsAt = place(source.pixels.length);
  const columnStartsAt = place(columns.starts.byteLength);
  const columnWeightsAt = place(columns.weights.byteLength);
  const rowStartsAt = place(rows.starts.byteLength);
  const rowWeightsAt = place(rows.weights.byteLength);
  const betweenAt = place((lastRow - firstRow) * rowWidth);
  const outAt = place(crop.height * rowWidth);
  const pages = Math.ceil(end / 65536) - k.memory.buffer.byteLength / 65536;
  if (pages > 0) k.memory.grow(pages);
  const memory = new Uint8Array(k.memory.buffer);
  memory.set(source.pixels, pixelsAt);
  memory.set(asBytes(columns.starts), columnStartsAt);
  memory.set(asBytes(columns.weights), columnWeightsAt);
  memory.set(asBytes(rows.starts), rowStartsAt);
  memory.set(asBytes(rows.weights), rowWeightsAt);
  k.horizontal(
    pixelsAt + source.origin,
    source.stepX,
    source.stepY,
    firstRow,
    lastRow,
    columnStartsAt,
    columnWeightsAt,
    crop.width,
    betweenAt,
  );
  k.vertical(betweenAt, rowStartsAt, rowWeightsAt, rowWidth, outAt, crop.height);
  return {
    width: crop.width,
    height: crop.height,
    pixels: memory.slice(outAt, outAt + crop.height * rowWidth),
  };
}

function asBytes(values: Int32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** The same result from plain loops, for any number of taps and grey too: the fallback, and the tests' reference. */
export function resampleBilinearInJavaScript(source: StridedPixels, target: ResampleTarget): RgbImage {
  return resampleInJavaScript(source, planOf(source, target));
}

function resampleInJavaScript(source: StridedPixels, plan: Plan): RgbImage {
  const { crop, columns, rows, firstRow, lastRow } = plan;
  const rowWidth = crop.width * 3;
  const between = new Uint8Array((lastRow - firstRow) * rowWidth);
  horizontal(source, columns, firstRow, lastRow, between, crop.width);
  const pixels = new Uint8Array(crop.height * rowWidth);
  vertical(between, rows, firstRow, rowWidth, pixels, crop.height);
  return { width: crop.width, height: crop.height, pixels };
}

/**
 * The same weights laid out four per output, each output's window moved back where needed so that all four
 * inputs exist (the added ones weigh 0): the loops then read four inputs with no inner loop. Sums are
 * unchanged, since the added terms are zero. Undefined when some output needs more than four inputs.
 */
interface FourTaps {
  /** Per output: its first input, counted from `first`. */
  readonly starts: Int32Array;
  readonly weights: Int32Array;
}

function fourTaps(c: Coefficients, end: number, first = 0): FourTaps | undefined {
  const count = c.bounds.length / 2;
  if (end - first < 4) return undefined;
  const starts = new Int32Array(count);
  const weights = new Int32Array(count * 4);
  for (let i = 0; i < count; i++) {
    const min = (c.bounds[2 * i] ?? 0) - first;
    const taps = c.bounds[2 * i + 1] ?? 0;
    if (taps > 4) return undefined;
    const start = Math.min(min, end - first - 4);
    starts[i] = start;
    for (let t = 0; t < taps; t++) weights[i * 4 + min - start + t] = c.weights[i * c.size + t] ?? 0;
  }
  return { starts, weights };
}

interface Coefficients {
  /** Per output: first input index and number of inputs. */
  readonly bounds: Int32Array;
  /** Per output, `size` fixed-point weights (unused ones zero). */
  readonly weights: Int32Array;
  readonly size: number;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for outputs [first, first + count) of inSize → outSize. */
function coefficients(inSize: number, outSize: number, first: number, count: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle filter's support is 1
  const size = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(count * 2);
  const weights = new Int32Array(count * size);
  const raw = new Float64Array(size);
  // Pillow multiplies by the reciprocal rather than dividing: the last bit can differ, and with it a weight.
  const reciprocal = 1 / filterScale;
  for (let i = 0; i < count; i++) {
    const center = (first + i + 0.5) * scale;
    const min = Math.max(0, Math.trunc(center - support + 0.5));
    const max = Math.min(inSize, Math.trunc(center + support + 0.5)) - min;
    let total = 0;
    for (let x = 0; x < max; x++) {
      const distance = Math.abs((x + min - center + 0.5) * reciprocal);
      const weight = distance < 1 ? 1 - distance : 0;
      raw[x] = weight;
      total += weight;
    }
    for (let x = 0; x < max; x++) {
      const normalized = total === 0 ? (raw[x] ?? 0) : (raw[x] ?? 0) / total;
      weights[i * size + x] = Math.trunc(normalized * (1 << PRECISION_BITS) + (normalized < 0 ? -0.5 : 0.5));
    }
    bounds[2 * i] = min;
    bounds[2 * i + 1] = max;
  }
  return { bounds, weights, size };
}

function clip8(sum: number): number {
  const value = sum >> PRECISION_BITS;
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/**
 * The horizontal pass. A grey picture reads its one byte as R, G and B alike (PIL's convert("RGB") of a grey
 * image): three times the work of a grey-only loop, on the fallback path only (grey pictures, more than four
 * taps, no WebAssembly).
 */
function horizontal(
  source: StridedPixels,
  columns: Coefficients,
  firstRow: number,
  lastRow: number,
  out: Uint8Array,
  outWidth: number,
): void {
  const { pixels, origin, stepX, stepY } = source;
  const { bounds, weights, size } = columns;
  const [green, blue] = source.channels === 3 ? [1, 2] : [0, 0];
  let o = 0;
  for (let y = firstRow; y < lastRow; y++) {
    const row = origin + y * stepY;
    for (let i = 0; i < outWidth; i++) {
      const min = bounds[2 * i] as number;
      const taps = bounds[2 * i + 1] as number;
      let p = row + min * stepX;
      let w = i * size;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let x = 0; x < taps; x++) {
        const k = weights[w++] as number;
        r = (r + Math.imul(pixels[p] as number, k)) | 0;
        g = (g + Math.imul(pixels[p + green] as number, k)) | 0;
        b = (b + Math.imul(pixels[p + blue] as number, k)) | 0;
        p += stepX;
      }
      out[o++] = clip8(r);
      out[o++] = clip8(g);
      out[o++] = clip8(b);
    }
  }
}

/** Row by row, so the inner loop runs along contiguous memory: each tap adds a weighted source row. */
function vertical(
  between: Uint8Array,
  rows: Coefficients,
  firstRow: number,
  rowWidth: number,
  out: Uint8Array,
  outHeight: number,
): void {
  const { bounds, weights, size } = rows;
  const sums = new Int32Array(rowWidth);
  for (let j = 0; j < outHeight; j++) {
    sums.fill(HALF);
    const min = (bounds[2 * j] ?? 0) - firstRow;
    const taps = bounds[2 * j + 1] ?? 0;
    for (let y = 0; y < taps; y++) {
      const k = weights[j * size + y] as number;
      const row = (min + y) * rowWidth;
      for (let i = 0; i < rowWidth; i++)
        sums[i] = (sums[i] as number) + Math.imul(between[row + i] as number, k);
    }
    const o = j * rowWidth;
    for (let i = 0; i < rowWidth; i++) out[o + i] = clip8(sums[i] as number);
  }
}

/**
 * Interleaved pixels of a stored width x height image as the upright picture its EXIF orientation (1..8)
 * describes: for 5..8 the upright picture is height x width. Nothing is copied or turned. Each pixel takes
 * `pixelBytes` bytes, of which the first `channels` are read (an alpha byte after them is left out).
 */
export function orientedPixels(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3,
  orientation: number,
  pixelBytes: number = channels,
): StridedPixels {
  const right = pixelBytes;
  const down = width * pixelBytes;
  const lastColumn = (width - 1) * right;
  const lastRow = (height - 1) * down;
  const [origin, stepX, stepY] = ((): [number, number, number] => {
    switch (orientation) {
      case 2:
        return [lastColumn, -right, down];
      case 3:
        return [lastRow + lastColumn, -right, -down];
      case 4:
        return [lastRow, right, -down];
      case 5:
        return [0, down, right];
      case 6:
        return [lastRow, -down, right];
      case 7:
        return [lastRow + lastColumn, -down, -right];
      case 8:
        return [lastColumn, down, -right];
      default:
        return [0, right, down];
    }
  })();
  const turned = orientation >= 5 && orientation <= 8;
  return {
    pixels,
    width: turned ? height : width,
    height: turned ? width : height,
    channels,
    origin,
    stepX,
    stepY,
  };
}
