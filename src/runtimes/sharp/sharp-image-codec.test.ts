import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp, { type Sharp } from 'sharp';
import { readJpegHeader } from '../../core/preprocess/jpeg-header.js';
import { SharpImageCodec } from './sharp-image-codec.js';
import type { DecodeRequest } from '../../core/preprocess/image-codec.js';
import { testImage } from '../../../test/helpers/paths.js';

const photo = readFileSync(testImage('hotdog.jpg'));
// Not square, so a wrong width/height swap changes the resize and the crop.
const wide = (): Sharp => sharp(photo).resize(320, 200, { fit: 'cover' });

const variants: [string, () => Promise<Buffer>][] = [
  ['a camera photo as published (hotdog.jpg)', () => Promise.resolve(photo)],
  ['baseline 4:2:0', () => wide().jpeg().toBuffer()],
  ['progressive', () => wide().jpeg({ progressive: true }).toBuffer()],
  ['4:4:4', () => wide().jpeg({ chromaSubsampling: '4:4:4' }).toBuffer()],
  ['mozjpeg', () => wide().jpeg({ mozjpeg: true }).toBuffer()],
  ['grey', () => wide().greyscale().jpeg().toBuffer()],
  [
    'with ICC and XMP',
    () => wide().withIccProfile('p3').withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>').jpeg().toBuffer(),
  ],
  ...[1, 2, 3, 4, 5, 6, 7, 8].map((orientation): [string, () => Promise<Buffer>] => [
    `EXIF orientation ${String(orientation)}`,
    () => wide().withMetadata({ orientation }).jpeg().toBuffer(),
  ]),
];

describe('JPEG headers read from markers agree with libvips', () => {
  for (const [title, make] of variants) {
    test(title, async () => {
      const bytes = await make();
      const header = readJpegHeader(bytes);
      assert.ok(header !== undefined, 'the marker reader vouches for this file');
      const metadata = await sharp(bytes).metadata();
      assert.equal(metadata.format, 'jpeg');
      assert.equal(metadata.hasAlpha, false);
      assert.equal(header.width, metadata.width);
      assert.equal(header.height, metadata.height);
      assert.equal(header.orientation, metadata.orientation ?? 1);
    });
  }

  test('a CMYK JPEG is left to libvips', async () => {
    const cmyk = await wide().toColourspace('cmyk').jpeg().toBuffer();
    assert.equal(readJpegHeader(cmyk), undefined);
  });
});

describe('SharpImageCodec', () => {
  const codec = new SharpImageCodec();
  const request = async (bytes: Buffer): Promise<DecodeRequest> => ({
    bytes,
    header: await codec.probe(bytes),
    width: 96,
    height: 64,
    resizeMode: 'shorter-side-then-center-crop',
    resizeShorterSide: 72,
    maxPixels: 1_000_000,
  });

  for (const orientation of [1, 3, 5, 6, 8]) {
    test(`a JPEG with orientation ${String(orientation)} decodes as its upright PNG does`, async () => {
      const jpeg = await wide().withMetadata({ orientation }).jpeg().toBuffer();
      // The same pixels, turned upright and stored losslessly: this one goes through libvips' own header.
      const upright = await sharp(jpeg).autoOrient().png().toBuffer();
      const fast = await codec.decode(await request(jpeg));
      const reference = await codec.decode(await request(upright));
      assert.equal(fast.pixels.length, reference.pixels.length);
      let worst = 0;
      fast.pixels.forEach(
        (value, i) => (worst = Math.max(worst, Math.abs(value - (reference.pixels[i] ?? 0)))),
      );
      assert.ok(worst <= 1, `largest channel difference ${String(worst)}`);
    });
  }

  test('the pixel limit holds on the marker path, before decoding', async () => {
    const jpeg = await wide().jpeg().toBuffer();
    await assert.rejects(
      codec.decode({ ...(await request(jpeg)), maxPixels: 320 * 200 - 1 }),
      (error: Error & { code?: string }) => error.code === 'SKIFF_IMAGE_TOO_LARGE',
    );
  });
});
