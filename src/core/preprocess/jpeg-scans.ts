/**
 * Progressive JPEGs with more scans than this are refused before any decoding. Each scan is a pass over every
 * block of the picture, and a legal file may hold 883 scans per component of nearly empty data: a 64 KB
 * 4000x4000 file cost libvips 3.9 s of CPU, a 16 KB 500x8000 one 0.4-0.5 s. Encoders write 1 scan (baseline) or
 * about 10 (libjpeg's and mozjpeg's progressive scripts; Photoshop offers 3 to 5).
 */
export const MAX_JPEG_SCANS = 32;

const SOS = 0xda;
const EOI = 0xd9;

/**
 * The number of scans (SOS markers) in a JPEG, counting no further than `stopAfter + 1`: marker segments are
 * skipped by their lengths, entropy-coded data up to its next marker (0xFF followed by neither a stuffed 0x00 nor
 * a restart marker), so bytes inside EXIF blocks or scan data are never taken for markers. A malformed file is
 * counted up to where it breaks (its decoder will refuse it). Linear in the file's size, on native searches.
 */
export function countJpegScans(bytes: Uint8Array, stopAfter: number): number {
  let scans = 0;
  let at = 2;
  while (at < bytes.length) {
    if (bytes[at] !== 0xff) return scans;
    while (at < bytes.length && bytes[at] === 0xff) at++;
    const marker = bytes[at++];
    if (marker === undefined || marker === EOI) return scans;
    // Standalone markers (TEM, RSTn) carry no length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (at + 2 > bytes.length) return scans;
    const length = ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
    if (length < 2) return scans;
    at += length;
    if (marker !== SOS) continue;
    if (++scans > stopAfter) return scans;
    at = endOfEntropyCodedData(bytes, at);
  }
  return scans;
}

/** Where the marker after the scan data starting at `at` begins (the file's length when there is none). */
function endOfEntropyCodedData(bytes: Uint8Array, at: number): number {
  for (;;) {
    const ff = bytes.indexOf(0xff, at);
    if (ff < 0 || ff + 1 >= bytes.length) return bytes.length;
    const next = bytes[ff + 1] ?? 0;
    if (next !== 0x00 && (next < 0xd0 || next > 0xd7)) return ff;
    at = ff + 2;
  }
}
