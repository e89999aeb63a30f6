/** A JPEG marker segment: 0xFF, the marker, the big-endian length (which counts itself), the body. */
export function jpegSegment(marker: number, body: readonly number[]): number[] {
  return [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
}
