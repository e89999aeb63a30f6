// What /predict answers to bad or unusual uploads, over a real socket, and that the server keeps serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import sharp from 'sharp';
import type { RunningServer } from '../../src/server.js';
import { IMAGENET_LABELS, defaultModel, testImage } from '../helpers/paths.js';
import { postEarlyAnswer, postImage, startTestServer } from '../helpers/test-server.js';

const MODEL = defaultModel();
// A 200 KB camera JPEG (512x384): MobileNet V2 says hotdog 0.98.
const photo = readFileSync(testImage('hotdog.jpg'));
// The photo whose grey-scale version MobileNet V2 still gets right (Egyptian_cat 0.95 in colour, 0.95 in grey;
// the hotdog turns into a burrito without its colours).
const cat = readFileSync(testImage('egyptian_cat.png'));

/** An RGBA PNG (alpha 255 everywhere) made from a committed RGB photo, 224x224 as the model takes it. */
async function rgbaPng(): Promise<Buffer> {
  const png = await sharp(cat).resize(224, 224).ensureAlpha().png().toBuffer();
  const { channels, hasAlpha } = await sharp(png).metadata();
  assert.equal(channels, 4);
  assert.equal(hasAlpha, true);
  return png;
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A valid tiny PNG whose header claims width x height: a decompression bomb in a few hundred bytes. */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
      .png()
      .toBuffer(),
  );
  // IHDR data starts at byte 16 (8 signature + 4 length + 4 type); its CRC covers type + data (17 bytes).
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  return {
    status: response.status,
    body: JSON.parse(text) as Record<string, unknown>,
    headers: response.headers,
  };
}

describe('/predict with bad and unusual input', () => {
  let server: RunningServer;
  let small: RunningServer;
  before(async () => {
    server = await startTestServer({ model: MODEL, labels: IMAGENET_LABELS() });
    small = await startTestServer({
      model: MODEL,
      labels: IMAGENET_LABELS(),
      maxBodyBytes: 100_000,
      maxImagePixels: 1_000_000,
    });
  });
  after(async () => {
    await server.close();
    await small.close();
  });

  const predict = (query = ''): string => `${server.url}/predict${query}`;

  async function expectError(response: Response, status: number, fragment: RegExp): Promise<void> {
    const { body, status: got } = await answer(response);
    assert.equal(got, status, JSON.stringify(body));
    assert.equal(typeof body.error, 'string');
    assert.match(body.error as string, fragment);
    assert.doesNotMatch(
      body.error as string,
      /\/work\/|at .*\.js:\d+|node_modules/,
      'no paths or stack traces in answers',
    );
  }

  test('multipart without an "image" field names the fields it found', async () => {
    const form = new FormData();
    form.append('picture', new Blob([photo], { type: 'image/jpeg' }), 'hotdog.jpg');
    form.append('note', 'hello');
    await expectError(
      await fetch(predict(), { method: 'POST', body: form }),
      400,
      /no file field "image".*"picture", "note"/,
    );
  });

  test('an empty image file', async () => {
    await expectError(await postImage(predict(), new Uint8Array(0)), 400, /empty/);
  });

  test('a text file sent as the image', async () => {
    await expectError(
      await postImage(predict(), new TextEncoder().encode('just some text\n'), 'a.txt', 'text/plain'),
      400,
      /not an image/,
    );
  });

  test('a PDF sent as the image', async () => {
    const pdf = new TextEncoder().encode(
      '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
    );
    await expectError(await postImage(predict(), pdf, 'doc.pdf', 'application/pdf'), 400, /not an image/);
  });

  test('an SVG is refused: documents are not photos', async () => {
    const svg = new TextEncoder().encode(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    );
    await expectError(
      await postImage(predict(), svg, 'a.svg', 'image/svg+xml'),
      400,
      /svg format are not accepted/,
    );
  });

  test('a truncated JPEG', async () => {
    await expectError(
      await postImage(predict(), photo.subarray(0, Math.floor(photo.length * 0.6))),
      400,
      /corrupt or truncated/,
    );
  });

  test('a truncated PNG', async () => {
    const png = cat;
    await expectError(
      await postImage(predict(), png.subarray(0, 5000), 'a.png', 'image/png'),
      400,
      /corrupt or truncated/,
    );
  });

  test('a PNG with corrupted compressed data', async () => {
    const png = Buffer.from(cat);
    for (let i = 20_000; i < 20_400; i++) png[i] = (png[i] ?? 0) ^ 0x5a;
    await expectError(await postImage(predict(), png, 'a.png', 'image/png'), 400, /corrupt or truncated/);
  });

  test('a 1 KB PNG claiming 100000 x 100000 pixels is refused before decoding', async () => {
    const bomb = await pngClaiming(100_000, 100_000);
    assert.ok(bomb.length < 1024);
    await expectError(
      await postImage(predict(), bomb, 'bomb.png', 'image/png'),
      413,
      /100000x100000 .* the limit is 40000000 pixels/,
    );
  });

  test('an image over --max-image-pixels is 413', async () => {
    const big = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    await expectError(await postImage(`${small.url}/predict`, big), 413, /1200x1000/);
  });

  test('a body over --max-body-bytes is 413, raw or multipart', async () => {
    await expectError(
      await fetch(`${small.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: photo,
      }),
      413,
      /larger than the limit/,
    );
    // The form is refused from its Content-Length before a byte is read, and the connection closed: fetch
    // may see its upload cut (EPIPE) instead of the answer, so this one is sent with node:http.
    const form = new FormData();
    form.append('image', new Blob([photo], { type: 'image/jpeg' }), 'image.jpg');
    const encoded = new Response(form);
    const early = await postEarlyAnswer(`${small.url}/predict`, Buffer.from(await encoded.arrayBuffer()), {
      'content-type': encoded.headers.get('content-type') ?? '',
    });
    await expectError(new Response(early.text, { status: early.status }), 413, /larger than the limit/);
  });

  test("the seed's JSON form sent to an image model is 400 and says why", async () => {
    await expectError(
      await fetch(predict(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"X": [1, 2]}',
      }),
      400,
      /needs a model with one 2-D input \[rows, features\]; model .* has input \[-1,3,224,224\]/,
    );
  });

  test('a content type /predict does not take is 415 and says what to send', async () => {
    await expectError(
      await fetch(predict(), { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b\n1,2\n' }),
      415,
      /text\/csv.*multipart\/form-data file field named "image"/,
    );
  });

  test('a POST with no body and no content type', async () => {
    await expectError(await fetch(predict(), { method: 'POST' }), 400, /no image in the request/);
  });

  test('multipart with a boundary that never appears', async () => {
    await expectError(
      await fetch(predict(), {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
        body: 'garbage without parts',
      }),
      400,
      /multipart/,
    );
  });

  test('top_k out of range or not a number', async () => {
    await expectError(
      await postImage(predict('?top_k=0'), photo),
      400,
      /top_k must be an integer from 1 to 1000/,
    );
    await expectError(
      await postImage(predict('?top_k=abc'), photo),
      400,
      /top_k must be a positive whole number/,
    );
    await expectError(await postImage(predict('?top_k=5000'), photo), 400, /top_k/);
  });

  test('an unknown model name is 404', async () => {
    await expectError(await postImage(predict('?model=nope'), photo), 404, /no model named "nope"/);
  });

  test('an unknown route is 404 and a wrong method is 405 with Allow', async () => {
    await expectError(await fetch(`${server.url}/nothing-here`), 404, /no route GET \/nothing-here/);
    const wrong = await fetch(predict());
    assert.equal(wrong.headers.get('allow'), 'POST');
    await expectError(wrong, 405, /method GET is not allowed on \/predict/);
    await expectError(await fetch(`${server.url}/v2/health/ready`, { method: 'DELETE' }), 405, /use GET/);
  });

  test('a client that disconnects mid-upload does not disturb the server', async () => {
    await new Promise<void>((resolve) => {
      const request = http.request(predict(), {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg', 'content-length': String(photo.length) },
      });
      request.on('error', () => resolve());
      request.write(photo.subarray(0, 10_000), () => {
        request.destroy();
        resolve();
      });
    });
    const response = await postImage(predict(), photo);
    assert.equal(response.status, 200);
  });

  describe('images that must work', () => {
    const cases: [string, () => Promise<Buffer>, string][] = [
      ['grey-scale JPEG', () => sharp(photo).greyscale().jpeg().toBuffer(), 'image/jpeg'],
      ['RGBA PNG', rgbaPng, 'image/png'],
      ['grey + alpha PNG', () => sharp(photo).greyscale().ensureAlpha(0.5).png().toBuffer(), 'image/png'],
      ['16-bit PNG', () => sharp(photo).toColourspace('rgb16').png().toBuffer(), 'image/png'],
      ['CMYK JPEG', () => sharp(photo).toColourspace('cmyk').jpeg().toBuffer(), 'image/jpeg'],
      ['WebP', () => sharp(photo).webp().toBuffer(), 'image/webp'],
      ['GIF', () => sharp(photo).gif().toBuffer(), 'image/gif'],
      ['TIFF', () => sharp(photo).tiff().toBuffer(), 'image/tiff'],
      [
        'JPEG with EXIF orientation 6',
        () => sharp(photo).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
        'image/jpeg',
      ],
      [
        'a very wide image',
        () => sharp(photo).resize(2000, 100, { fit: 'fill' }).jpeg().toBuffer(),
        'image/jpeg',
      ],
    ];
    for (const [title, make, type] of cases) {
      test(title, async () => {
        const response = await postImage(predict(), await make(), 'upload', type);
        const { status, body } = await answer(response);
        assert.equal(status, 200, JSON.stringify(body));
        assert.equal((body.predictions as unknown[]).length, 5);
      });
    }

    test('grey-scale and colour versions of the cat agree on Egyptian_cat', async () => {
      const grey = await sharp(cat).greyscale().jpeg({ quality: 95 }).toBuffer();
      for (const [bytes, type] of [
        [cat, 'image/png'],
        [grey, 'image/jpeg'],
      ] as const) {
        const { body } = await answer(await postImage(predict(), bytes, 'cat', type));
        assert.equal((body.predictions as { label: string }[])[0]?.label, 'Egyptian_cat', type);
      }
    });

    test('a 1x1 image is upscaled and classified', async () => {
      const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#ffffff' } })
        .png()
        .toBuffer();
      const { status } = await answer(await postImage(predict(), tiny, 'p.png', 'image/png'));
      assert.equal(status, 200);
    });
  });

  test('a raw image body works with image/* and octet-stream, and top_k is honoured', async () => {
    for (const type of ['image/jpeg', 'application/octet-stream']) {
      const { status, body } = await answer(
        await fetch(predict('?top_k=3'), { method: 'POST', headers: { 'content-type': type }, body: photo }),
      );
      assert.equal(status, 200);
      const predictions = body.predictions as { label: string }[];
      assert.equal(predictions.length, 3);
      assert.equal(predictions[0]?.label, 'hotdog');
    }
  });

  test('after all of the above the server still answers, and concurrent good and bad requests each get their own answer', async () => {
    const bad = postImage(predict(), photo.subarray(0, 3000));
    const goods = Array.from({ length: 6 }, () => postImage(predict(), photo));
    const [badAnswer, ...goodAnswers] = await Promise.all([bad, ...goods]);
    assert.equal(badAnswer.status, 400);
    for (const response of goodAnswers) {
      const { status, body } = await answer(response);
      assert.equal(status, 200);
      assert.equal((body.predictions as { label: string }[])[0]?.label, 'hotdog');
    }
    assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);
  });
});
