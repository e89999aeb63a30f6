import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readJpegHeader } from './jpeg-header.js';
import { jpegSegment } from '../../../test/helpers/jpeg-segment.js';

const frame = (marker: number, width: number, height: number, components = 3): number[] =>
  jpegSegment(marker, [
    8,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    components,
    ...Array<number>(components * 3).fill(1),
  ]);
const scan = jpegSegment(0xda, [1, 1, 0, 0, 63, 0]);

/** An APP1 EXIF block whose IFD0 holds the given (tag, type, count, value) entries. */
function exif(little: boolean, entries: [number, number, number, number][]): number[] {
  const u16 = (v: number): number[] => (little ? [v & 0xff, v >> 8] : [v >> 8, v & 0xff]);
  const u32 = (v: number): number[] =>
    little ? [...u16(v & 0xffff), ...u16(v >>> 16)] : [...u16(v >>> 16), ...u16(v & 0xffff)];
  const tiff = [
    ...(little ? [0x49, 0x49] : [0x4d, 0x4d]),
    ...u16(42),
    ...u32(8),
    ...u16(entries.length),
    ...entries.flatMap(([tag, type, count, value]) => [
      ...u16(tag),
      ...u16(type),
      ...u32(count),
      ...u16(value),
      0,
      0,
    ]),
    ...u32(0),
  ];
  return jpegSegment(0xe1, [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff]);
}

const jpeg = (...parts: number[][]): Uint8Array => Uint8Array.from([0xff, 0xd8, ...parts.flat(), 0x12, 0x34]);

describe('readJpegHeader', () => {
  test('baseline and progressive frames give their size and components', () => {
    assert.deepEqual(readJpegHeader(jpeg(frame(0xc0, 500, 375), scan)), {
      width: 500,
      height: 375,
      components: 3,
      orientation: 1,
      progressive: false,
    });
    assert.deepEqual(readJpegHeader(jpeg(frame(0xc2, 4000, 3000, 1), scan)), {
      width: 4000,
      height: 3000,
      components: 1,
      orientation: 1,
      progressive: true,
    });
    // Extended sequential (SOF1) and arithmetic progressive (SOF10): one scan per component, and many.
    assert.equal(readJpegHeader(jpeg(frame(0xc1, 8, 8), scan))?.progressive, false);
    assert.equal(readJpegHeader(jpeg(frame(0xca, 8, 8), scan))?.progressive, true);
  });

  test('EXIF orientation in either byte order, other tags skipped', () => {
    for (const little of [true, false]) {
      for (let orientation = 1; orientation <= 8; orientation++) {
        const header = readJpegHeader(
          jpeg(
            exif(little, [
              [0x010f, 2, 1, 0],
              [0x0112, 3, 1, orientation],
            ]),
            frame(0xc0, 64, 32),
            scan,
          ),
        );
        assert.equal(
          header?.orientation,
          orientation,
          `little=${String(little)} orientation=${String(orientation)}`,
        );
      }
    }
    assert.equal(
      readJpegHeader(jpeg(exif(true, [[0x010f, 2, 1, 0]]), frame(0xc0, 64, 32), scan))?.orientation,
      1,
    );
  });

  test('fill bytes, other APPn segments, DHT and restart markers before the frame are stepped over', () => {
    const header = readJpegHeader(
      jpeg(
        [0xff, 0xff],
        jpegSegment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0]),
        jpegSegment(0xc4, [0, 1, 2]),
        [0xff, 0xd0],
        frame(0xc1, 7, 9),
        scan,
      ),
    );
    assert.deepEqual(header, { width: 7, height: 9, components: 3, orientation: 1, progressive: false });
  });

  test('files it does not vouch for answer undefined', () => {
    const cases: [string, Uint8Array][] = [
      ['not a JPEG', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0])],
      ['empty', new Uint8Array(0)],
      ['SOI only', Uint8Array.of(0xff, 0xd8)],
      ['scan before any frame', jpeg(scan)],
      ['height left to DNL', jpeg(frame(0xc0, 64, 0), scan)],
      ['CMYK', jpeg(frame(0xc0, 64, 64, 4), scan)],
      ['two frames', jpeg(frame(0xc0, 64, 64), frame(0xc0, 64, 64), scan)],
      ['truncated in the frame', jpeg(frame(0xc0, 64, 64)).subarray(0, 12)],
      ['segment longer than the file', Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0x7f, 0xff, 0, 0)],
      ['garbage between segments', jpeg(jpegSegment(0xe0, [1]), [0x00], frame(0xc0, 64, 64), scan)],
      ['orientation 0', jpeg(exif(true, [[0x0112, 3, 1, 0]]), frame(0xc0, 64, 32), scan)],
      ['orientation 9', jpeg(exif(false, [[0x0112, 3, 1, 9]]), frame(0xc0, 64, 32), scan)],
      ['orientation as LONG', jpeg(exif(true, [[0x0112, 4, 1, 6]]), frame(0xc0, 64, 32), scan)],
      [
        'two EXIF blocks',
        jpeg(exif(true, [[0x0112, 3, 1, 6]]), exif(true, [[0x0112, 3, 1, 1]]), frame(0xc0, 64, 32), scan),
      ],
      [
        'EXIF IFD outside the block',
        jpeg(
          jpegSegment(0xe1, [0x45, 0x78, 0x69, 0x66, 0, 0, 0x49, 0x49, 42, 0, 0xff, 0, 0, 0]),
          frame(0xc0, 64, 32),
          scan,
        ),
      ],
      [
        'EXIF with a bad byte order mark',
        jpeg(
          jpegSegment(0xe1, [0x45, 0x78, 0x69, 0x66, 0, 0, 0x41, 0x41, 42, 0, 8, 0, 0, 0]),
          frame(0xc0, 64, 32),
          scan,
        ),
      ],
    ];
    for (const [title, bytes] of cases) assert.equal(readJpegHeader(bytes), undefined, title);
  });
});
