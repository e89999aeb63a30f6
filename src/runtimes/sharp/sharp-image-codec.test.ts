import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import sharp, { type Sharp } from 'sharp';
import { readJpegHeader } from '../../core/preprocess/jpeg-header.js';
import { SharpImageCodec } from './sharp-image-codec.js';
import type { DecodeRequest } from '../../core/preprocess/image-codec.js';
import { testImage } from '../../../test/helpers/paths.js';
import { loadLibjpegDecoder } from '../libjpeg/libjpeg-decoder.js';
import type { LibjpegDecoder } from '../libjpeg/libjpeg-decoder.js';
import { progressiveScans } from '../../../test/helpers/progressive-scans.js';

const libjpeg = loadLibjpegDecoder();
// The JPEGs resized here are decoded with the libjpeg addon when it was built (CI builds it): on an image thread
// synchronously, on the server's event loop on libuv's pool; libvips otherwise. The tests that pin JPEG pixels run
// on all three.
if (libjpeg.decoder === undefined && process.env.CI !== undefined) throw new Error(libjpeg.reason);
const jpegCodecs: [string, SharpImageCodec][] = [
  ['libvips', new SharpImageCodec()],
  ...(libjpeg.decoder === undefined
    ? []
    : ([
        ['libjpeg on this thread', new SharpImageCodec(libjpeg.decoder, true)],
        ["libjpeg on libuv's pool", new SharpImageCodec(libjpeg.decoder, false)],
      ] as [string, SharpImageCodec][])),
];

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
  const request = (bytes: Buffer): Promise<DecodeRequest> => cropRequest(codec, bytes, 64, 64, 72);

  // libvips' resize (320x200 or 200x320 to 72: shrinking more than twice), then a crop of the longer side, which
  // is made here for a turned JPEG.
  for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8]) {
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

/**
 * `jpeg` with its EXIF block replaced by one that only says `orientation`, put right after the SOI marker; the
 * compressed pixels stay byte-identical.
 */
function withOrientation(jpeg: Buffer, orientation: number): Buffer {
  const kept: Buffer[] = [];
  let at = 2;
  for (;;) {
    const marker = jpeg[at + 1] ?? 0;
    if (marker === 0xda) break;
    const end = at + 2 + jpeg.readUInt16BE(at + 2);
    const isExif =
      marker === 0xe1 && jpeg.subarray(at + 4, at + 10).equals(Buffer.from('Exif\0\0', 'latin1'));
    if (!isExif) kept.push(jpeg.subarray(at, end));
    at = end;
  }
  const tiff = [
    0x49,
    0x49,
    42,
    0,
    8,
    0,
    0,
    0,
    1,
    0,
    0x12,
    0x01,
    3,
    0,
    1,
    0,
    0,
    0,
    orientation,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ];
  const body = [...Buffer.from('Exif\0\0', 'latin1'), ...tiff];
  const app1 = Buffer.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, ...kept, jpeg.subarray(at)]);
}

/** `bytes` decoded at 224x224 after a resize of the shorter side to 256, torchvision's ImageNet preprocessing. */
async function decodeAt224(codec: SharpImageCodec, bytes: Buffer): Promise<Uint8Array> {
  return (await codec.decode(await cropRequest(codec, bytes, 224, 224, 256))).pixels;
}

/** A request for `bytes` resized to `shorterSide` on its shorter side, then center-cropped to width x height. */
async function cropRequest(
  codec: SharpImageCodec,
  bytes: Buffer,
  width: number,
  height: number,
  shorterSide: number,
  maxPixels = 1_000_000,
): Promise<DecodeRequest> {
  return {
    bytes,
    header: await codec.probe(bytes),
    width,
    height,
    resizeMode: 'shorter-side-then-center-crop',
    resizeShorterSide: shorterSide,
    maxPixels,
  };
}

describe('a plain JPEG is resized as torchvision resizes it', () => {
  // sha256 of the 224x224 RGB bytes that torchvision 0.14's Resize(256) + CenterCrop(224) give on Pillow 9.4 for
  // hotdog.jpg turned upright as ImageOps.exif_transpose turns each EXIF orientation (Debian's python3-torchvision
  // and python3-pil). libjpeg-turbo decodes the same pixels under libvips and Pillow, and the resize here is
  // Pillow's, so the bytes are equal, not close.
  const torchvision: Record<number, string> = {
    1: 'b7a0eab047bbaaf6f605471009ce97d81a6db44c25d7ec5eda6e705a673c7ece',
    2: '2a26ff36cc7b016c12f1f75ac49940135fdc3cc5a031b13fe1bba2c16ff50ca9',
    3: 'ef41e285efd0df6f65f87619cd94a638f36b4bd07fc6e69f23993795ed0bc327',
    4: 'df8143c0055193c1639416e52de6f94a08326a3d5ccee9e0fd87596b6fff9112',
    5: 'dc2b1cbeccccc2e2f2a6f11cd95a4fcbd7cd1b7c74bb6e1db227f637791b7bbc',
    6: 'd3425732d81a769cc8c822d8d7301e004ba1f6f702de514bc25e8705660ded0d',
    7: '5b2c515e75408fd9663594c9aef3d193af393def90bcfe87c910acc17f37eaf3',
    8: '94ef244d62ff9ce5fb3ca4845e9740d5f46adc5e4602f62a4502015e9989435c',
  };
  for (const [decoder, codec] of jpegCodecs)
    for (let orientation = 1; orientation <= 8; orientation++) {
      test(`hotdog.jpg with EXIF orientation ${String(orientation)}, decoded by ${decoder}: the same bytes`, async () => {
        const bytes = withOrientation(photo, orientation);
        assert.equal(readJpegHeader(bytes)?.orientation, orientation);
        const pixels = await decodeAt224(codec, bytes);
        assert.equal(createHash('sha256').update(pixels).digest('hex'), torchvision[orientation]);
      });
    }

  // The other JPEG kinds, against the same upright pixels stored as PNG (which libvips turned, and which this path
  // takes too): equal bytes, so reading the orientation from strides turns as libvips turns. And against the
  // same pixels as TIFF, which keeps libvips' resize: a different filter, so close rather than equal; a wrong
  // turn, channel or colour conversion would be far off.
  for (const [decoder, codec] of jpegCodecs)
    for (const [title, make] of variants.slice(1)) {
      test(`${title}, decoded by ${decoder}: its upright PNG's bytes, close to libvips' resize`, async () => {
        const jpeg = await make();
        // The reference keeps the stored pixels too: sharp would otherwise convert a P3 variant's to sRGB.
        const upright = sharp(jpeg, { ignoreIcc: true }).autoOrient();
        const request = (bytes: Buffer): Promise<DecodeRequest> => cropRequest(codec, bytes, 144, 128, 160);
        const here = await codec.decode(await request(jpeg));
        const png = await codec.decode(await request(await upright.clone().png().toBuffer()));
        assert.ok(Buffer.from(here.pixels).equals(Buffer.from(png.pixels)));
        const libvips = await codec.decode(
          await request(await upright.clone().tiff({ compression: 'lzw' }).toBuffer()),
        );
        let worst = 0;
        let total = 0;
        here.pixels.forEach((value, i) => {
          const difference = Math.abs(value - (libvips.pixels[i] ?? 0));
          worst = Math.max(worst, difference);
          total += difference;
        });
        assert.ok(
          worst <= 2 && total / here.pixels.length < 0.5,
          `worst ${String(worst)}, mean ${String(total / here.pixels.length)}`,
        );
      });
    }
});

describe('an embedded colour profile is not applied, as PIL does not apply it', () => {
  const codec = new SharpImageCodec();
  const at = (bytes: Buffer, shorterSide: number): Promise<Uint8Array> =>
    codec.probe(bytes).then(async (header) => {
      const decoded = await codec.decode({
        bytes,
        header,
        width: 96,
        height: 96,
        resizeMode: 'shorter-side-then-center-crop',
        resizeShorterSide: shorterSide,
        maxPixels: 10_000_000,
      });
      return decoded.pixels;
    });
  // hotdog.jpg is 512x384: to 128 it shrinks 3x (libvips resizes it), to 256 by less than half (resized here).
  for (const [path, shorterSide] of [
    ['resized here', 256],
    ["libvips' resize", 128],
  ] as const) {
    for (const [kind, make, strip] of [
      ['JPEG', (s: Sharp) => s.jpeg({ quality: 90 }), withoutJpegProfile],
      ['PNG', (s: Sharp) => s.png(), withoutPngProfile],
    ] as const) {
      test(`${path}: a Display P3 ${kind} gives the bytes of the same file without its profile`, async () => {
        const tagged = await make(sharp(photo).withIccProfile('p3')).toBuffer();
        const bare = strip(tagged);
        assert.notEqual(bare.length, tagged.length, 'the profile was there to strip');
        assert.ok(
          Buffer.from(await at(tagged, shorterSide)).equals(Buffer.from(await at(bare, shorterSide))),
        );
      });
    }
  }

  test("hotdog.jpg's own sRGB profile: the same bytes with it and without it", async () => {
    const bare = withoutJpegProfile(photo);
    assert.notEqual(bare.length, photo.length);
    for (const side of [256, 128])
      assert.ok(Buffer.from(await at(photo, side)).equals(Buffer.from(await at(bare, side))));
  });
});

/** A JPEG without its APP2 segments, where an ICC profile is stored. */
function withoutJpegProfile(jpeg: Buffer): Buffer {
  const kept: Buffer[] = [jpeg.subarray(0, 2)];
  let at = 2;
  while (at + 4 <= jpeg.length) {
    const marker = jpeg[at + 1];
    if (marker === 0xda) break;
    const end = at + 2 + jpeg.readUInt16BE(at + 2);
    if (marker !== 0xe2) kept.push(jpeg.subarray(at, end));
    at = end;
  }
  kept.push(jpeg.subarray(at));
  return Buffer.concat(kept);
}

/** A PNG without its iCCP chunk. */
function withoutPngProfile(png: Buffer): Buffer {
  const kept: Buffer[] = [png.subarray(0, 8)];
  for (let at = 8; at + 8 <= png.length;) {
    const end = at + 12 + png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) !== 'iCCP') kept.push(png.subarray(at, end));
    at = end;
  }
  return Buffer.concat(kept);
}

describe("a broken plain JPEG on the path resized here fails as on libvips' own path", () => {
  for (const [decoder, codec] of jpegCodecs) {
    const decode = (bytes: Buffer): Promise<Uint8Array> => decodeAt224(codec, bytes);
    const undecodable = (error: Error & { code?: string }): boolean =>
      error.code === 'SKIFF_UNDECODABLE_IMAGE';

    test(`cut off halfway through its scan (${decoder})`, async () => {
      await assert.rejects(decode(photo.subarray(0, Math.floor(photo.length / 2))), undecodable);
    });

    test(`scan data garbled, markers intact (${decoder})`, async () => {
      const garbled = Buffer.from(photo);
      // Past the headers (about 29 KB here), into the entropy-coded data; 0xFF bytes would read as markers.
      for (let i = 60_000; i < 60_400; i += 7) garbled[i] = (garbled[i] ?? 0) ^ 0x5a || 1;
      await assert.rejects(decode(garbled), undecodable);
    });
  }
});

describe('PNG, WebP and GIF are resized as torchvision resizes them too', () => {
  const codec = new SharpImageCodec();
  const decode = (bytes: Buffer): Promise<Uint8Array> => decodeAt224(codec, bytes);
  const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

  // torchvision 0.14's Resize(256) + CenterCrop(224) on Pillow 9.4, as for hotdog.jpg above; the Samoyed is
  // enlarged, which the same arithmetic covers.
  for (const [file, digest] of [
    ['egyptian_cat.png', '3cdd093a6dd74d9aee85d925767e7abfe7af6e364ec773a028f330bc7bf8971a'],
    ['samoyed_128.png', '835f25b645d780aabe84a45ab4489cc02a3692e270acb6e56471c806e008cc09'],
  ] as const) {
    test(`${file}: the same bytes as torchvision`, async () => {
      assert.equal(sha256(await decode(readFileSync(testImage(file)))), digest);
    });
  }

  test('alpha is left out as PIL\'s convert("RGB") leaves it: an RGBA PNG gives its RGB PNG\'s bytes', async () => {
    const rgb = await sharp(photo).png().toBuffer();
    const rgba = await sharp(photo).ensureAlpha(0.3).png().toBuffer();
    const greyAlpha = await sharp(photo).greyscale().ensureAlpha(0.7).png().toBuffer();
    const grey = await sharp(photo).greyscale().png().toBuffer();
    assert.ok(Buffer.from(await decode(rgba)).equals(Buffer.from(await decode(rgb))));
    assert.ok(Buffer.from(await decode(greyAlpha)).equals(Buffer.from(await decode(grey))));
  });

  test("on libvips' resize too (shrinking 3x), an RGBA PNG gives its RGB PNG's bytes", async () => {
    const big = sharp(photo).resize(768, 576);
    const at = async (bytes: Buffer): Promise<Buffer> => {
      const decoded = await codec.decode({
        bytes,
        header: await codec.probe(bytes),
        width: 160,
        height: 160,
        resizeMode: 'shorter-side-then-center-crop',
        resizeShorterSide: 192,
        maxPixels: 1_000_000,
      });
      return Buffer.from(decoded.pixels);
    };
    const rgb = await at(await big.clone().png().toBuffer());
    assert.ok(rgb.equals(await at(await big.clone().ensureAlpha(0.3).png().toBuffer())));
  });

  for (const [format, encode] of [
    ['WebP', (s: Sharp) => s.webp({ quality: 80 })],
    ['GIF', (s: Sharp) => s.gif()],
  ] as const) {
    test(`${format}: the bytes its own pixels give as a PNG`, async () => {
      const encoded = await encode(sharp(photo)).toBuffer();
      const samePixelsAsPng = await sharp(encoded).png().toBuffer();
      assert.ok(Buffer.from(await decode(encoded)).equals(Buffer.from(await decode(samePixelsAsPng))));
    });
  }

  test('a 16-bit PNG keeps libvips pipeline, close to its 8-bit twin', async () => {
    const eight = await decode(await sharp(photo).png().toBuffer());
    const sixteen = await decode(await sharp(photo).toColourspace('rgb16').png().toBuffer());
    let worst = 0;
    sixteen.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - (eight[i] ?? 0)))));
    assert.ok(worst <= 8, `largest channel difference ${String(worst)}`);
  });
});

describe('the libjpeg codec of an image thread decodes every picture into one buffer', () => {
  test('pictures decoded together each give what they give alone', async (t) => {
    if (libjpeg.decoder === undefined) return t.skip(libjpeg.reason);
    const codec = new SharpImageCodec(libjpeg.decoder, true);
    const files = await Promise.all(
      [
        [320, 200],
        [300, 300],
        [200, 320],
        [257, 256],
      ].map(([width = 1, height = 1], i) =>
        sharp(photo)
          .resize(width, height, { fit: 'cover', position: i * 2 })
          .jpeg({ quality: 70 + i * 5 })
          .toBuffer(),
      ),
    );
    const requests = await Promise.all(files.map((bytes) => cropRequest(codec, bytes, 160, 160, 180)));
    const alone: Uint8Array[] = [];
    for (const r of requests) alone.push((await codec.decode(r)).pixels);
    assert.equal(new Set(alone.map((p) => createHash('sha256').update(p).digest('hex'))).size, files.length);
    for (let round = 0; round < 2; round++) {
      const together = await Promise.all(requests.map((r) => codec.decode(r)));
      together.forEach((image, i) =>
        assert.ok(Buffer.from(image.pixels).equals(Buffer.from(alone[i] ?? [])), `picture ${String(i)}`),
      );
    }
  });
});

describe('a progressive JPEG of more than 32 scans is refused before it is decoded, on every path', () => {
  const undecodable = (error: Error & { code?: string }): boolean =>
    error.code === 'SKIFF_UNDECODABLE_IMAGE' && /more than 32 scans/.test(error.message);
  // 500x8000 shrinks by less than half (the path resized here); 4000x4000 goes to libvips' resize.
  for (const [width, height] of [
    [500, 8000],
    [4000, 4000],
  ] as const) {
    for (const [decoder, codec] of jpegCodecs) {
      test(`${String(width)}x${String(height)}, 883 scans (${decoder}): refused by probe and by decode; 32 scans decode`, async () => {
        const bomb = progressiveScans(883, width, height);
        // The probe refuses it, before a caller takes decode budget for its size.
        await assert.rejects(codec.probe(bomb), undecodable);
        // decode() too, given a header from elsewhere (another thread's probe).
        const header = { format: 'jpeg', width, height, hasAlpha: false };
        const crop = { width: 224, height: 224, resizeMode: 'shorter-side-then-center-crop' as const };
        await assert.rejects(
          codec.decode({ bytes: bomb, header, ...crop, resizeShorterSide: 256, maxPixels: 40_000_000 }),
          undecodable,
        );
        const legal = await codec.decode(
          await cropRequest(codec, progressiveScans(32, width, height), 224, 224, 256, 40_000_000),
        );
        assert.equal(legal.pixels.length, 224 * 224 * 3);
      });
    }
  }
});

describe("libjpeg's refusals are the upload's fault, a bug is not", () => {
  const failing = (error: Error): LibjpegDecoder => ({
    decode: () => {
      throw error;
    },
    decodeAsync: () => Promise.reject(error),
  });
  const refusal = Object.assign(new Error('Premature end of JPEG file'), { code: 'SKIFF_JPEG_DECODE' });
  for (const onThisThread of [true, false]) {
    test(`${onThisThread ? 'on this thread' : "on libuv's pool"}: SKIFF_UNDECODABLE_IMAGE for libjpeg's, the error itself for a TypeError`, async () => {
      const bytes = await wide().jpeg().toBuffer();
      const request = (codec: SharpImageCodec): Promise<DecodeRequest> =>
        cropRequest(codec, bytes, 144, 128, 160);
      const refusing = new SharpImageCodec(failing(refusal), onThisThread);
      await assert.rejects(
        refusing.decode(await request(refusing)),
        (error: Error & { code?: string }) => error.code === 'SKIFF_UNDECODABLE_IMAGE',
      );
      const bug = new TypeError('decode(jpeg: Buffer, out: Buffer, width, height, components)');
      const broken = new SharpImageCodec(failing(bug), onThisThread);
      await assert.rejects(broken.decode(await request(broken)), (error) => error === bug);
    });
  }
});
