import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { countJpegScans } from './jpeg-scans.js';
import { jpegSegment } from '../../../test/helpers/jpeg-segment.js';

const sos = (data: number[]): number[] => [...jpegSegment(0xda, [1, 1, 0, 0, 63, 0]), ...data];
const file = (...parts: number[][]): Uint8Array => Uint8Array.from([0xff, 0xd8, ...parts.flat(), 0xff, 0xd9]);

describe('countJpegScans', () => {
  test('counts SOS markers between the other segments', () => {
    assert.equal(countJpegScans(file(jpegSegment(0xdb, [0, 1, 2]), sos([1, 2, 3])), 10), 1);
    assert.equal(countJpegScans(file(sos([1]), jpegSegment(0xc4, [0]), sos([2]), sos([3])), 10), 3);
  });

  test('scan data: stuffed bytes, restart markers and fill bytes are not markers; the next real one is', () => {
    const data = [0x12, 0xff, 0x00, 0x34, 0xff, 0xd3, 0x56, 0xff, 0x00];
    assert.equal(countJpegScans(file(sos(data), [0xff, 0xff], sos(data)), 10), 2);
  });

  test('0xFF 0xDA inside an EXIF block or a comment is not a scan', () => {
    const exif = jpegSegment(0xe1, [0x45, 0x78, 0x69, 0x66, 0, 0, 0xff, 0xda, 0xff, 0xda, 0, 8]);
    assert.equal(countJpegScans(file(exif, jpegSegment(0xfe, [0xff, 0xda, 0, 4]), sos([7])), 10), 1);
  });

  test('stops one past the limit, and counts a truncated or broken file up to where it breaks', () => {
    const many = file(...Array.from({ length: 50 }, () => sos([1, 2])));
    assert.equal(countJpegScans(many, 100), 50);
    assert.equal(countJpegScans(many, 10), 11);
    assert.equal(countJpegScans(many.subarray(0, 40), 100), 3);
    assert.equal(countJpegScans(Uint8Array.of(0xff, 0xd8, 0x00, 0xff, 0xda), 10), 0);
    assert.equal(countJpegScans(Uint8Array.of(0xff, 0xd8, 0xff, 0xda, 0x00, 0x01), 10), 0);
  });
});
