import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ResampleTarget, StridedPixels } from './resample-bilinear.js';
import { orientedPixels, resampleBilinear, resampleBilinearInJavaScript } from './resample-bilinear.js';
import { createResampleKernels } from './resample-kernels.js';

/** The pattern the Pillow figures below were made from: channel c of pixel (x, y). */
function pattern(width: number, height: number): Uint8Array {
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++)
        pixels[(y * width + x) * 3 + c] = (x * 37 + y * 91 + c * 53 + x * y * 7) % 256;
  return pixels;
}

function upright(pixels: Uint8Array, width: number, height: number): StridedPixels {
  return orientedPixels(pixels, width, height, 3, 1);
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Deterministic noise, so a failure can be replayed. */
function noise(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

describe('resampleBilinear gives what Pillow 9.4 gives for Image.resize(size, BILINEAR) on RGB', () => {
  // Figures from Pillow 9.4.0 (Debian's python3-pil) on pattern(); the whole output for the small case, its
  // sha256 for the others.
  test('7x5 down to 4x3, byte for byte', () => {
    const out = resampleBilinear(upright(pattern(7, 5), 7, 5), { resizeWidth: 4, resizeHeight: 3 });
    assert.deepEqual(
      [...out.pixels],
      [
        60, 113, 161, 122, 145, 141, 117, 139, 163, 149, 125, 115, 145, 137, 113, 117, 126, 134, 130, 138,
        147, 151, 127, 119, 101, 147, 138, 157, 134, 127, 144, 140, 133, 158, 129, 119,
      ],
    );
  });

  const digests: [number, number, number, number, string][] = [
    [7, 5, 11, 8, 'e05d0b46e27bac2dae8ef6c577aa505b6fd5a3c4f4c127ee29cccd0177bab62f'],
    [23, 17, 13, 12, '6009fd6abb79695cefd88f78b59655efefcca962d2f5e522d26531bd5905646e'],
    [6, 6, 6, 6, '00394c51c2f596785d5d6af22819e0aa9256abb74eb2383011d8c19d3a197bcf'],
  ];
  for (const [width, height, resizeWidth, resizeHeight, digest] of digests) {
    test(`${String(width)}x${String(height)} to ${String(resizeWidth)}x${String(resizeHeight)}`, () => {
      const source = upright(pattern(width, height), width, height);
      const target = { resizeWidth, resizeHeight };
      assert.equal(sha256(resampleBilinear(source, target).pixels), digest);
      assert.equal(sha256(resampleBilinearInJavaScript(source, target).pixels), digest);
    });
  }
});

describe('the WebAssembly kernels agree with the JavaScript loops', () => {
  test('WebAssembly SIMD is there on every Node this project supports', () => {
    assert.ok(createResampleKernels() !== undefined);
  });

  // Shrinking by less than 2 (at most four taps) and enlarging go to the kernels; the sizes are odd on purpose,
  // so rows are not multiples of the kernels' 8-byte blocks.
  const cases: [number, number, ResampleTarget][] = [
    [500, 375, { resizeWidth: 341, resizeHeight: 256, crop: { left: 58, top: 16, width: 224, height: 224 } }],
    [512, 384, { resizeWidth: 341, resizeHeight: 256, crop: { left: 58, top: 16, width: 224, height: 224 } }],
    [37, 29, { resizeWidth: 23, resizeHeight: 17 }],
    [37, 29, { resizeWidth: 80, resizeHeight: 61, crop: { left: 3, top: 5, width: 71, height: 49 } }],
    [301, 299, { resizeWidth: 151, resizeHeight: 150, crop: { left: 0, top: 149, width: 151, height: 1 } }],
    [9, 4, { resizeWidth: 5, resizeHeight: 4 }],
  ];
  for (const [width, height, target] of cases) {
    test(`${String(width)}x${String(height)} to ${JSON.stringify(target)}, every orientation`, () => {
      const pixels = noise(width * height * 3, width * 7919 + height);
      for (let orientation = 1; orientation <= 8; orientation++) {
        const source = orientedPixels(pixels, width, height, 3, orientation);
        if (target.resizeWidth * 2 <= source.width || target.resizeHeight * 2 <= source.height) continue;
        const fast = resampleBilinear(source, target);
        const reference = resampleBilinearInJavaScript(source, target);
        assert.equal(fast.width, reference.width);
        assert.equal(fast.height, reference.height);
        assert.ok(
          Buffer.from(fast.pixels).equals(Buffer.from(reference.pixels)),
          `orientation ${String(orientation)}`,
        );
      }
    });
  }

  test('shrinking by 2 or more (more than four taps) and grey pictures take the JavaScript loops, same answer', () => {
    const pixels = noise(64 * 48 * 3, 11);
    const target = { resizeWidth: 20, resizeHeight: 15 };
    assert.deepEqual(
      resampleBilinear(upright(pixels, 64, 48), target),
      resampleBilinearInJavaScript(upright(pixels, 64, 48), target),
    );
    const grey = noise(33 * 21, 5);
    const source = orientedPixels(grey, 33, 21, 1, 1);
    const out = resampleBilinear(source, { resizeWidth: 30, resizeHeight: 20 });
    const asRgb = new Uint8Array(33 * 21 * 3).map((_, i) => grey[Math.floor(i / 3)] ?? 0);
    assert.deepEqual(
      out.pixels,
      resampleBilinear(upright(asRgb, 33, 21), { resizeWidth: 30, resizeHeight: 20 }).pixels,
    );
  });

  test('a large picture after a small one: the kernels memory grows and the answer stays right', () => {
    const small = noise(20 * 10 * 3, 3);
    const large = noise(1201 * 901 * 3, 4);
    for (const [pixels, width, height] of [
      [small, 20, 10],
      [large, 1201, 901],
      [small, 20, 10],
    ] as const) {
      const target = { resizeWidth: Math.ceil(width * 0.6), resizeHeight: Math.ceil(height * 0.6) };
      const source = upright(pixels, width, height);
      assert.ok(
        Buffer.from(resampleBilinear(source, target).pixels).equals(
          Buffer.from(resampleBilinearInJavaScript(source, target).pixels),
        ),
      );
    }
  });
});

describe('orientedPixels', () => {
  // A 3x2 picture whose pixel values name their stored position; each orientation's upright reading is written
  // out as EXIF defines it (the transposition Pillow's ImageOps.exif_transpose applies).
  const stored = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => Math.floor(i / 3));
  const expected: Record<number, number[][]> = {
    1: [
      [0, 1, 2],
      [3, 4, 5],
    ],
    2: [
      [2, 1, 0],
      [5, 4, 3],
    ],
    3: [
      [5, 4, 3],
      [2, 1, 0],
    ],
    4: [
      [3, 4, 5],
      [0, 1, 2],
    ],
    5: [
      [0, 3],
      [1, 4],
      [2, 5],
    ],
    6: [
      [3, 0],
      [4, 1],
      [5, 2],
    ],
    7: [
      [5, 2],
      [4, 1],
      [3, 0],
    ],
    8: [
      [2, 5],
      [1, 4],
      [0, 3],
    ],
  };
  for (let orientation = 1; orientation <= 8; orientation++) {
    test(`orientation ${String(orientation)}`, () => {
      const view = orientedPixels(stored, 3, 2, 3, orientation);
      const rows = Array.from({ length: view.height }, (_, y) =>
        Array.from({ length: view.width }, (_, x) => stored[view.origin + x * view.stepX + y * view.stepY]),
      );
      assert.deepEqual(rows, expected[orientation]);
    });
  }
});
