import { jpegSegment } from './jpeg-segment.js';

/**
 * A valid progressive grey JPEG of `width` x `height` in `scans` scans (2 to 883), every coefficient zero: the DC
 * scan, then a first scan of each AC coefficient at successive-approximation bit 13, then each coefficient's
 * refinement scans down to bit 0. Every scan is legal, so a decoder that refuses the file does so for their number
 * alone; and each AC scan codes all its blocks as a few end-of-band runs, so a 4 Mpx picture of 883 scans is about
 * 20 KB, while a decoder still passes over every block once per scan: a "scan bomb".
 */
export function progressiveScans(scans: number, width = 8, height = 8): Buffer {
  if (scans < 2 || scans > 1 + 63 * 14) throw new RangeError('2 to 883 scans');
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  // DC: one code, "0", for difference 0. AC: EOBr (r = 0..14, a run of 2^r + r more bits' worth of blocks), all
  // fifteen with 4-bit codes: EOBr's code is r itself, and the all-ones code stays unused as the standard asks.
  const dcTable = [0x00, 1, ...new Array<number>(15).fill(0), 0x00];
  const acTable = [0x10, 0, 0, 0, 15, ...new Array<number>(12).fill(0)];
  for (let r = 0; r <= 14; r++) acTable.push(r << 4);
  const bytes = [
    0xff,
    0xd8,
    ...jpegSegment(0xdb, [0x00, ...new Array<number>(64).fill(1)]),
    ...jpegSegment(0xc2, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]),
    ...jpegSegment(0xc4, [...dcTable, ...acTable]),
  ];
  const scan = (start: number, end: number, high: number, low: number, data: number[]): void => {
    bytes.push(...jpegSegment(0xda, [1, 1, 0x00, start, end, (high << 4) | low]), ...data);
  };
  scan(
    0,
    0,
    0,
    0,
    entropyCoded((put) => {
      for (let b = 0; b < blocks; b++) put(0, 1);
    }),
  );
  const endOfBands = entropyCoded((put) => {
    for (let left = blocks; left > 0;) {
      const run = Math.min(left, 32767);
      const r = Math.floor(Math.log2(run));
      put(r, 4);
      put(run - (1 << r), r);
      left -= run;
    }
  });
  let left = scans - 1;
  for (let bit = 14; bit >= 1 && left > 0; bit--) {
    for (let k = 1; k <= 63 && left > 0; k++, left--) {
      if (bit === 14) scan(k, k, 0, 13, endOfBands);
      else scan(k, k, bit, bit - 1, endOfBands);
    }
  }
  bytes.push(0xff, 0xd9);
  return Buffer.from(bytes);
}

/** Bits written most significant first, padded with ones, a 0x00 stuffed after every 0xFF. */
function entropyCoded(write: (put: (value: number, bits: number) => void) => void): number[] {
  const out: number[] = [];
  let byte = 0;
  let filled = 0;
  write((value, bits) => {
    for (let i = bits - 1; i >= 0; i--) {
      byte = (byte << 1) | ((value >> i) & 1);
      if (++filled === 8) {
        out.push(byte);
        if (byte === 0xff) out.push(0x00);
        byte = 0;
        filled = 0;
      }
    }
  });
  if (filled > 0) {
    const last = (byte << (8 - filled)) | ((1 << (8 - filled)) - 1);
    out.push(last);
    if (last === 0xff) out.push(0x00);
  }
  return out;
}
