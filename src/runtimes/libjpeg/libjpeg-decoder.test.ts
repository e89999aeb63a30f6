import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import type { JpegOptions } from 'sharp';
import { loadLibjpegDecoder } from './libjpeg-decoder.js';
import { testImage } from '../../../test/helpers/paths.js';
import { progressiveScans } from '../../../test/helpers/progressive-scans.js';

const load = loadLibjpegDecoder();
// CI builds the addon (its machine has cc and libjpeg's headers): there, a missing addon is a failure, not a skip.
const skip = load.decoder === undefined && process.env.CI === undefined ? load.reason : false;

/** Noise with some structure, so every coefficient and both chroma planes carry something. */
function pattern(width: number, height: number, seed: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  let state = seed;
  for (let i = 0; i < pixels.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const x = Math.floor(i / 3) % width;
    pixels[i] = ((x * 7 + (i % 3) * 60) & 0xff) ^ (state >>> 27);
  }
  return pixels;
}

async function jpeg(
  width: number,
  height: number,
  options: JpegOptions & { grey?: boolean },
): Promise<Buffer> {
  const image = sharp(pattern(width, height, width * 31 + height), { raw: { width, height, channels: 3 } });
  return (options.grey === true ? image.greyscale() : image).jpeg(options).toBuffer();
}

/** What the server decoded before the addon: libvips' pixels, stored orientation, no colour profile applied. */
async function libvipsPixels(
  bytes: Buffer,
): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(bytes, { ignoreIcc: true, failOn: 'warning', sequentialRead: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

function decode(bytes: Buffer, width: number, height: number, channels: 1 | 3): Buffer | false {
  const { decoder } = loadLibjpegDecoder();
  assert.ok(decoder !== undefined, load.reason);
  const out = Buffer.alloc(width * height * channels);
  return decoder.decode(bytes, out, width, height, channels) && out;
}

describe('the libjpeg addon gives the bytes libvips gives', { skip }, () => {
  const cases: [string, () => Promise<Buffer>][] = [
    ['hotdog.jpg (a camera photo)', () => Promise.resolve(readFileSync(testImage('hotdog.jpg')))],
    ['macaw.jpg (a camera photo)', () => Promise.resolve(readFileSync(testImage('macaw.jpg')))],
  ];
  for (const [width, height] of [
    [1, 1],
    [7, 5],
    [17, 9],
    [33, 65],
    [500, 375],
  ] as const) {
    for (const chromaSubsampling of ['4:2:0', '4:4:4']) {
      for (const progressive of [false, true]) {
        cases.push([
          `${String(width)}x${String(height)} ${chromaSubsampling}${progressive ? ' progressive' : ''}`,
          () => jpeg(width, height, { chromaSubsampling, progressive, quality: 90 }),
        ]);
      }
    }
    cases.push([`${String(width)}x${String(height)} grey`, () => jpeg(width, height, { grey: true })]);
  }
  cases.push(
    ['quality 20', () => jpeg(320, 200, { quality: 20 })],
    ['quality 100', () => jpeg(320, 200, { quality: 100 })],
    ['mozjpeg (trellis, progressive scans of its own)', () => jpeg(320, 200, { mozjpeg: true })],
    ['optimised Huffman tables', () => jpeg(320, 200, { optimiseCoding: true })],
  );
  for (const [title, make] of cases) {
    test(title, async () => {
      const bytes = await make();
      const expected = await libvipsPixels(bytes);
      const channels = expected.channels === 1 ? 1 : 3;
      assert.equal(expected.channels, channels);
      const got = decode(bytes, expected.width, expected.height, channels);
      assert.ok(got !== false, 'the addon decoded it');
      assert.equal(Buffer.compare(got, expected.data), 0, 'the same bytes');
    });
  }
});

describe('the libjpeg addon refuses what it must', { skip }, () => {
  test('a size, component count or colour space other than the caller said: false, for libvips', async () => {
    const bytes = await jpeg(40, 30, {});
    assert.equal(decode(bytes, 30, 40, 3), false);
    assert.equal(decode(bytes, 40, 30, 1), false);
    const cmyk = await sharp(pattern(40, 30, 1), { raw: { width: 40, height: 30, channels: 3 } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    assert.equal(decode(cmyk, 40, 30, 3), false);
  });

  test('a truncated file throws, as sharp with failOn "warning" does', async () => {
    const bytes = await jpeg(200, 150, {});
    const truncated = bytes.subarray(0, Math.floor(bytes.length / 2));
    await assert.rejects(libvipsPixels(truncated));
    assert.throws(() => decode(truncated, 200, 150, 3), /premature end|corrupt/i);
  });

  test('corrupt entropy-coded data throws', async () => {
    const bytes = Buffer.from(await jpeg(200, 150, {}));
    const scan = bytes.lastIndexOf(Buffer.from([0xff, 0xda]));
    bytes.fill(0xff, scan + 40, scan + 60);
    assert.throws(() => decode(bytes, 200, 150, 3));
  });

  test('not a JPEG, or an output buffer of the wrong size, throws', async () => {
    const { decoder } = loadLibjpegDecoder();
    assert.ok(decoder !== undefined);
    assert.throws(() => decoder.decode(Buffer.from('not a jpeg'), Buffer.alloc(3), 1, 1, 3), /not a JPEG/i);
    const bytes = await jpeg(8, 8, {});
    assert.throws(() => decoder.decode(bytes, Buffer.alloc(10), 8, 8, 3), /output buffer/);
    assert.throws(() => decoder.decode(bytes, Buffer.alloc(8 * 8 * 2), 8, 8, 2 as 1), TypeError);
  });

  test('a progressive file of more than 32 scans throws before decoding them all', () => {
    assert.equal(decode(progressiveScans(32), 8, 8, 1) === false, false, '32 scans decode');
    assert.throws(() => decode(progressiveScans(33), 8, 8, 1), /more than 32 scans/);
    assert.throws(() => decode(progressiveScans(883, 500, 8000), 500, 8000, 1), /more than 32 scans/);
  });
});

describe("decodeAsync: the same on libuv's thread pool", { skip }, () => {
  test('concurrent decodes, each into its own buffer, give the bytes libvips gives', async () => {
    const { decoder } = loadLibjpegDecoder();
    assert.ok(decoder !== undefined);
    const files = await Promise.all(
      [
        [64, 48],
        [97, 33],
        [320, 200],
        [500, 375],
      ].flatMap(([width = 1, height = 1]) => [
        jpeg(width, height, {}),
        jpeg(width, height, { progressive: true, chromaSubsampling: '4:4:4' }),
        jpeg(width, height, { grey: true }),
      ]),
    );
    const expected = await Promise.all(files.map(libvipsPixels));
    const outs = expected.map((e) => Buffer.alloc(e.data.length));
    const answers = await Promise.all(
      files.map((bytes, i) => {
        const e = expected[i];
        assert.ok(e !== undefined);
        return decoder.decodeAsync(
          bytes,
          outs[i] ?? Buffer.alloc(0),
          e.width,
          e.height,
          e.channels === 1 ? 1 : 3,
        );
      }),
    );
    assert.deepEqual(
      answers,
      files.map(() => true),
    );
    outs.forEach((out, i) =>
      assert.equal(Buffer.compare(out, expected[i]?.data ?? Buffer.alloc(0)), 0, `file ${String(i)}`),
    );
  });

  test('a file not as said resolves false; a broken one rejects with SKIFF_JPEG_DECODE; bad arguments throw at once', async () => {
    const { decoder } = loadLibjpegDecoder();
    assert.ok(decoder !== undefined);
    const bytes = await jpeg(200, 150, {});
    assert.equal(await decoder.decodeAsync(bytes, Buffer.alloc(150 * 200 * 3), 150, 200, 3), false);
    await assert.rejects(
      decoder.decodeAsync(bytes.subarray(0, 2000), Buffer.alloc(200 * 150 * 3), 200, 150, 3),
      (error: Error & { code?: string }) =>
        error.code === 'SKIFF_JPEG_DECODE' && /premature end/i.test(error.message),
    );
    await assert.rejects(
      decoder.decodeAsync(progressiveScans(600), Buffer.alloc(64), 8, 8, 1),
      /more than 32 scans/,
    );
    assert.throws(() => decoder.decodeAsync(bytes, Buffer.alloc(5), 200, 150, 3), TypeError);
  });
});
