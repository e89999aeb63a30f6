import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageInputContract } from '../model/model-config.js';
import type { RgbImage } from './image-codec.js';
import { imagesToTensor } from './image-to-tensor.js';
import { float16ToNumber, numberToFloat16 } from '../tensor/tensor.js';

/**
 * 2x2 image, row-major RGB:   (x0,y0) (x1,y0)
 *                              (x0,y1) (x1,y1)
 */
const IMAGE: RgbImage = {
  width: 2,
  height: 2,
  pixels: Uint8Array.of(10, 20, 30, /**/ 40, 50, 60, /**/ 70, 80, 90, /**/ 100, 110, 120),
};

/** Identity arithmetic: the tensor holds the pixel values themselves. */
function contract(overrides: Partial<ImageInputContract> = {}): ImageInputContract {
  return {
    name: 'input',
    layout: 'NCHW',
    dtype: 'float32',
    colorOrder: 'RGB',
    height: 2,
    width: 2,
    resizeMode: 'shorter-side-then-center-crop',
    resizeShorterSide: 2,
    scale: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    ...overrides,
  };
}

describe('imagesToTensor: layout and channel order', () => {
  test('NCHW RGB: one plane per channel, pixels row-major within a plane', () => {
    const tensor = imagesToTensor([IMAGE], contract());
    assert.equal(tensor.type, 'FP32');
    assert.deepEqual(tensor.shape, [1, 3, 2, 2]);
    assert.ok(tensor.data instanceof Float32Array);
    assert.deepEqual([...tensor.data], [10, 40, 70, 100, /* G */ 20, 50, 80, 110, /* B */ 30, 60, 90, 120]);
  });

  test('NHWC RGB: the interleaved pixels as they are', () => {
    const tensor = imagesToTensor([IMAGE], contract({ layout: 'NHWC' }));
    assert.deepEqual(tensor.shape, [1, 2, 2, 3]);
    assert.deepEqual([...tensor.data], [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]);
  });

  test('NCHW BGR: the blue plane first', () => {
    const tensor = imagesToTensor([IMAGE], contract({ colorOrder: 'BGR' }));
    assert.deepEqual([...tensor.data], [30, 60, 90, 120, /* G */ 20, 50, 80, 110, /* R */ 10, 40, 70, 100]);
  });

  test('NHWC BGR: each pixel reversed', () => {
    const tensor = imagesToTensor([IMAGE], contract({ layout: 'NHWC', colorOrder: 'BGR' }));
    assert.deepEqual([...tensor.data], [30, 20, 10, 60, 50, 40, 90, 80, 70, 120, 110, 100]);
  });

  test('a non-square image keeps height and width apart (shape [N, 3, H, W], plane index y * W + x)', () => {
    const wide: RgbImage = { width: 3, height: 2, pixels: Uint8Array.from({ length: 18 }, (_, i) => i) };
    const tensor = imagesToTensor([wide], contract({ height: 2, width: 3 }));
    assert.deepEqual(tensor.shape, [1, 3, 2, 3]);
    assert.deepEqual([...tensor.data.slice(0, 6)], [0, 3, 6, 9, 12, 15]);
    assert.deepEqual(
      imagesToTensor([wide], contract({ height: 2, width: 3, layout: 'NHWC' })).shape,
      [1, 2, 3, 3],
    );
  });

  test('a batch of two: the second image follows the first', () => {
    const second: RgbImage = { width: 2, height: 2, pixels: IMAGE.pixels.map((v) => v + 1) };
    const nchw = imagesToTensor([IMAGE, second], contract());
    assert.deepEqual(nchw.shape, [2, 3, 2, 2]);
    assert.deepEqual(
      [...nchw.data],
      [10, 40, 70, 100, 20, 50, 80, 110, 30, 60, 90, 120, 11, 41, 71, 101, 21, 51, 81, 111, 31, 61, 91, 121],
    );
    const nhwc = imagesToTensor([IMAGE, second], contract({ layout: 'NHWC' }));
    assert.deepEqual(nhwc.shape, [2, 2, 2, 3]);
    assert.deepEqual([...nhwc.data.slice(12)], [...second.pixels]);
  });
});

describe('imagesToTensor: arithmetic', () => {
  test('value = (pixel * scale - mean[c]) / std[c], exact for exactly representable numbers', () => {
    const tensor = imagesToTensor([IMAGE], contract({ scale: 2, mean: [1, 2, 3], std: [1, 2, 4] }));
    // R: 2p - 1; G: (2p - 2) / 2; B: (2p - 3) / 4
    assert.deepEqual([...tensor.data], [19, 79, 139, 199, 19, 49, 79, 109, 14.25, 29.25, 44.25, 59.25]);
  });

  test('mean and std are in the tensor channel order, so with BGR mean[0] applies to blue', () => {
    const tensor = imagesToTensor(
      [IMAGE],
      contract({ colorOrder: 'BGR', scale: 2, mean: [1, 2, 3], std: [1, 2, 4] }),
    );
    // channel 0 = B: 2p - 1; channel 1 = G: (2p - 2) / 2; channel 2 = R: (2p - 3) / 4
    assert.deepEqual([...tensor.data], [59, 119, 179, 239, 19, 49, 79, 109, 4.25, 19.25, 34.25, 49.25]);
  });

  test('the ImageNet recipe (scale 1/255, ImageNet mean and std) within float32 precision', () => {
    const mean = [0.485, 0.456, 0.406] as const;
    const std = [0.229, 0.224, 0.225] as const;
    const tensor = imagesToTensor([IMAGE], contract({ scale: 1 / 255, mean, std }));
    const expected = [0, 1, 2].flatMap((c) =>
      [0, 1, 2, 3].map((p) => ((IMAGE.pixels[p * 3 + c] ?? NaN) / 255 - (mean[c] ?? NaN)) / (std[c] ?? NaN)),
    );
    assert.equal(tensor.data.length, 12);
    expected.forEach((value, i) => {
      const got = tensor.data[i] as number;
      assert.ok(Math.abs(got - value) < 1e-6, `element ${i}: ${got} vs ${value}`);
    });
    // R of pixel (0,0): (10/255 - 0.485) / 0.229 = -1.94665639...
    assert.ok(Math.abs((tensor.data[0] as number) + 1.94665639) < 1e-6);
  });

  test('uint8 output rounds to the nearest integer', () => {
    const tensor = imagesToTensor([IMAGE], contract({ dtype: 'uint8', mean: [0.4, 0.6, -0.3] }));
    assert.equal(tensor.type, 'UINT8');
    assert.ok(tensor.data instanceof Uint8Array);
    // R: p - 0.4 -> p; G: p - 0.6 -> p - 1; B: p + 0.3 -> p
    assert.deepEqual([...tensor.data], [10, 40, 70, 100, 19, 49, 79, 109, 30, 60, 90, 120]);
  });

  test('uint8 output clamps to 0..255 instead of wrapping', () => {
    const tensor = imagesToTensor([IMAGE], contract({ dtype: 'uint8', layout: 'NHWC', mean: [0, 50, -200] }));
    // R: p; G: p - 50, below 0 for 20; B: p + 200, above 255 from 60 on
    assert.deepEqual([...tensor.data], [10, 0, 230, 40, 0, 255, 70, 30, 255, 100, 60, 255]);
  });

  test('float16 output holds the IEEE half bits of each value', () => {
    const tensor = imagesToTensor([IMAGE], contract({ dtype: 'float16' }));
    assert.equal(tensor.type, 'FP16');
    assert.ok(tensor.data instanceof Uint16Array);
    assert.deepEqual(
      [...tensor.data].map((bits) => bits.toString(16)),
      ['4900', '5100', '5460', '5640', '4d00', '5240', '5500', '56e0', '4f80', '5380', '55a0', '5780'],
    );
  });

  test('float16 output of normalised values is within half precision of the exact value', () => {
    const tensor = imagesToTensor(
      [IMAGE],
      contract({ dtype: 'float16', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }),
    );
    [...tensor.data].forEach((bits, i) => {
      const c = Math.floor(i / 4);
      const p = i % 4;
      const exact = ((IMAGE.pixels[p * 3 + c] ?? NaN) / 255 - 0.5) / 0.25;
      const got = float16ToNumber(bits as number);
      assert.ok(Math.abs(got - exact) <= Math.abs(exact) * 2 ** -11, `element ${i}: ${got} vs ${exact}`);
    });
  });
});

describe('imagesToTensor: errors', () => {
  test('an image of another size than the contract is SKIFF_INTERNAL (the codec must have resized it)', () => {
    const wrong: RgbImage = { width: 3, height: 2, pixels: new Uint8Array(18) };
    assert.throws(() => imagesToTensor([IMAGE, wrong], contract()), {
      name: 'SkiffError',
      code: 'SKIFF_INTERNAL',
      message: 'decoded image is 3x2, expected 2x2',
    });
  });

  test('pixels of the wrong length for the stated size are refused too', () => {
    const short: RgbImage = { width: 2, height: 2, pixels: new Uint8Array(11) };
    assert.throws(() => imagesToTensor([short], contract()), {
      code: 'SKIFF_INTERNAL',
      message: /^decoded image is 2x2/,
    });
  });
});

describe('imagesToTensor: the per-channel tables give what the formula gives, element by element', () => {
  // 16x16 pixels: every byte value once in each channel, the channels in different orders.
  const pixels = new Uint8Array(16 * 16 * 3);
  for (let p = 0; p < 256; p++) {
    pixels[p * 3] = p;
    pixels[p * 3 + 1] = 255 - p;
    pixels[p * 3 + 2] = (p * 67) % 256;
  }
  const image: RgbImage = { width: 16, height: 16, pixels };
  const imagenet = { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const;
  // uint8 models take bytes: a recipe that keeps values in 0..255 with some clamped at each end.
  const bytes = { scale: 1.5, mean: [20, -10, 100], std: [1, 1, 1] } as const;

  for (const dtype of ['float32', 'float16', 'uint8'] as const)
    for (const layout of ['NCHW', 'NHWC'] as const)
      for (const colorOrder of ['RGB', 'BGR'] as const)
        test(`${dtype} ${layout} ${colorOrder}`, () => {
          const recipe = dtype === 'uint8' ? bytes : imagenet;
          const spec = contract({ dtype, layout, colorOrder, width: 16, height: 16, ...recipe });
          const tensor = imagesToTensor([image], spec);
          for (let p = 0; p < 256; p++)
            for (let c = 0; c < 3; c++) {
              const byte = pixels[p * 3 + (colorOrder === 'BGR' ? 2 - c : c)] ?? 0;
              const float = Math.fround((byte * spec.scale - (spec.mean[c] ?? 0)) / (spec.std[c] ?? 1));
              const expected =
                dtype === 'float32'
                  ? float
                  : dtype === 'float16'
                    ? numberToFloat16(float)
                    : Math.min(255, Math.max(0, Math.round(float)));
              const index = layout === 'NCHW' ? c * 256 + p : p * 3 + c;
              const actual = tensor.data[index] as number;
              if (dtype === 'float32')
                assert.ok(Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${p},${c}`);
              else assert.equal(actual, expected, `pixel ${p} channel ${c}`);
            }
        });
});
