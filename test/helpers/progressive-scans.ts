/**
 * A valid progressive JPEG of one 8x8 grey block in `scans` scans (2 to 883), all coefficients zero: the DC
 * scan, then a first scan of each AC coefficient at successive-approximation bit 13, then each coefficient's
 * refinement scans down to bit 0. Every scan is legal, so a decoder that refuses the file does so for their
 * number alone: what a "scan bomb" is made of.
 */
export function progressiveScans(scans: number): Buffer {
  if (scans < 2 || scans > 1 + 63 * 14) throw new RangeError('2 to 883 scans');
  const marker = (code: number, body: number[]): number[] => [
    0xff,
    code,
    (body.length + 2) >> 8,
    (body.length + 2) & 0xff,
    ...body,
  ];
  // One Huffman code, "0", for symbol 0: DC difference 0, or AC end-of-band; a scan's one block is the bit 0,
  // padded with ones.
  const table = (classAndId: number): number[] => [classAndId, 1, ...new Array<number>(15).fill(0), 0x00];
  const scan = (start: number, end: number, high: number, low: number): number[] => [
    ...marker(0xda, [1, 1, 0x00, start, end, (high << 4) | low]),
    0x7f,
  ];
  const bytes = [
    0xff,
    0xd8,
    ...marker(0xdb, [0x00, ...new Array<number>(64).fill(1)]),
    ...marker(0xc2, [8, 0, 8, 0, 8, 1, 1, 0x11, 0]),
    ...marker(0xc4, [...table(0x00), ...table(0x10)]),
    ...scan(0, 0, 0, 0),
  ];
  let left = scans - 1;
  for (let bit = 14; bit >= 1 && left > 0; bit--) {
    for (let k = 1; k <= 63 && left > 0; k++, left--) {
      bytes.push(...(bit === 14 ? scan(k, k, 0, 13) : scan(k, k, bit, bit - 1)));
    }
  }
  bytes.push(0xff, 0xd9);
  return Buffer.from(bytes);
}
