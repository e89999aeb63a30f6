/** What a JPEG's markers say before any pixel is decoded. */
export interface JpegHeader {
  readonly width: number;
  readonly height: number;
  /** 1 (grey) or 3 (YCbCr / RGB). */
  readonly components: number;
  /** EXIF orientation 1..8; 1 when the file has no EXIF orientation. */
  readonly orientation: number;
  /** A progressive frame (SOF2, 6, 10, 14): the only kind that may hold many scans (jpeg-scans.ts). */
  readonly progressive: boolean;
}

const SOI = 0xd8;
const SOS = 0xda;
const EOI = 0xd9;
const APP1 = 0xe1;

/**
 * Reads a baseline or progressive JPEG's size, component count and EXIF orientation from its markers, so
 * a common upload can skip the image library's separate header pass. Anything unusual (no frame header
 * before the scan, a height left to a DNL marker, CMYK, two EXIF blocks, an orientation outside 1..8,
 * offsets that point outside the file) answers undefined: the caller then asks the library, which has
 * the last word on every file this does not vouch for.
 */
export function readJpegHeader(bytes: Uint8Array): JpegHeader | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) return undefined;
  let frame: Omit<JpegHeader, 'orientation'> | undefined;
  let orientation: number | undefined;
  let exifBlocks = 0;
  let at = 2;
  for (;;) {
    // Markers may be preceded by any number of 0xFF fill bytes.
    if (at >= bytes.length || bytes[at] !== 0xff) return undefined;
    while (at < bytes.length && bytes[at] === 0xff) at++;
    const marker = bytes[at];
    at++;
    if (marker === undefined || marker === 0 || marker === SOI || marker === EOI) return undefined;
    // Standalone markers (TEM, RSTn) carry no length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (at + 2 > bytes.length) return undefined;
    const length = u16(bytes, at, false);
    if (length < 2 || at + length > bytes.length) return undefined;
    const body = at + 2;
    if (marker === SOS) break;
    if (isFrameMarker(marker)) {
      if (frame !== undefined || length < 8) return undefined;
      const height = u16(bytes, body + 1, false);
      const width = u16(bytes, body + 3, false);
      const components = bytes[body + 5] ?? 0;
      if (height === 0 || width === 0 || (components !== 1 && components !== 3)) return undefined;
      frame = { width, height, components, progressive: (marker & 0x03) === 0x02 };
    } else if (marker === APP1 && isExif(bytes, body, length - 2)) {
      exifBlocks++;
      if (exifBlocks > 1) return undefined;
      orientation = exifOrientation(bytes, body + 6, length - 8);
      if (orientation === undefined) return undefined;
    }
    at += length;
  }
  if (frame === undefined) return undefined;
  return { ...frame, orientation: orientation ?? 1 };
}

/** SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function isFrameMarker(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function isExif(bytes: Uint8Array, at: number, length: number): boolean {
  const tag = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"
  return length >= tag.length && tag.every((value, i) => bytes[at + i] === value);
}

/**
 * The orientation from IFD0 of a TIFF structure at [start, start + length): 1 when the tag is absent,
 * undefined when the structure is broken or the value is not 1..8.
 */
function exifOrientation(bytes: Uint8Array, start: number, length: number): number | undefined {
  if (length < 8) return undefined;
  const order = u16(bytes, start, false);
  if (order !== 0x4949 && order !== 0x4d4d) return undefined;
  const little = order === 0x4949;
  if (u16(bytes, start + 2, little) !== 42) return undefined;
  const ifd = u32(bytes, start + 4, little);
  if (ifd < 8 || ifd + 2 > length) return undefined;
  const entries = u16(bytes, start + ifd, little);
  if (ifd + 2 + entries * 12 > length) return undefined;
  for (let i = 0; i < entries; i++) {
    const entry = start + ifd + 2 + i * 12;
    if (u16(bytes, entry, little) !== 0x0112) continue;
    const type = u16(bytes, entry + 2, little);
    const count = u32(bytes, entry + 4, little);
    if (type !== 3 || count !== 1) return undefined;
    const value = u16(bytes, entry + 8, little);
    return value >= 1 && value <= 8 ? value : undefined;
  }
  return 1;
}

function u16(bytes: Uint8Array, at: number, little: boolean): number {
  const a = bytes[at] ?? 0;
  const b = bytes[at + 1] ?? 0;
  return little ? a | (b << 8) : (a << 8) | b;
}

function u32(bytes: Uint8Array, at: number, little: boolean): number {
  const [a, b] = little
    ? [u16(bytes, at + 2, true), u16(bytes, at, true)]
    : [u16(bytes, at, false), u16(bytes, at + 2, false)];
  return a * 0x10000 + b;
}
