// Small files that decode to huge images: each is under --max-image-pixels (40M by default), so it passes
// the header check, then costs its full width × height × channels once decoded. Many at once must not
// exhaust memory (decoded pixels in flight are budgeted before decoding); refusals come fast as JSON.
import { test } from 'node:test';
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { assertHarmless } from './expectations.js';
import type { Answer } from './http-answer.js';
import { sendHttp } from './http-answer.js';
import { runAttack } from './run-attack.js';
import { progressiveScans } from '../helpers/progressive-scans.js';

const CONCURRENT = 32;
const TIMEOUT_MS = 45_000;

interface HugeImage {
  readonly name: string;
  readonly type: string;
  readonly make: () => Promise<Buffer>;
}

const solid = (width: number, height: number, channels: 3 | 4): Sharp =>
  sharp({ create: { width, height, channels, background: { r: 200, g: 30, b: 30, alpha: 1 } } });

const IMAGES: readonly HugeImage[] = [
  {
    name: 'PNG RGBA 6300x6300',
    type: 'image/png',
    make: () => solid(6300, 6300, 4).png({ compressionLevel: 9 }).toBuffer(),
  },
  {
    name: 'PNG RGB 6300x6300',
    type: 'image/png',
    make: () => solid(6300, 6300, 3).png({ compressionLevel: 9 }).toBuffer(),
  },
  { name: 'GIF 6000x6000', type: 'image/gif', make: () => solid(6000, 6000, 3).gif().toBuffer() },
  {
    name: 'WebP 6300x6300',
    type: 'image/webp',
    make: () => solid(6300, 6300, 3).webp({ lossless: true }).toBuffer(),
  },
  {
    name: 'TIFF 6300x6300',
    type: 'image/tiff',
    make: () => solid(6300, 6300, 3).tiff({ compression: 'deflate' }).toBuffer(),
  },
];

function postImage(url: string, image: Buffer, type: string): Promise<Answer> {
  return sendHttp(url, { path: '/predict', headers: { 'content-type': type }, body: image }, TIMEOUT_MS);
}

for (const image of IMAGES) {
  test(`${CONCURRENT} concurrent ${image.name} to /predict`, { timeout: 120_000 }, async (t) => {
    const bytes = await image.make();
    const report = await runAttack(t, {
      name: `huge image ${image.name} (${(bytes.length / 1024).toFixed(0)} KiB) ×${CONCURRENT}`,
      timeLimitMs: 60_000,
      attack: ({ server }) =>
        Promise.all(Array.from({ length: CONCURRENT }, () => postImage(server.url, bytes, image.type))),
    });
    assertHarmless(report);
  });
}

test('a 1 x 400000 PNG strip is answered (it is classified), never a 500', { timeout: 60_000 }, async (t) => {
  const strip = await solid(1, 400_000, 3).png().toBuffer();
  const report = await runAttack(t, {
    name: `1x400000 PNG strip (${(strip.length / 1024).toFixed(0)} KiB) ×4`,
    attack: async ({ server }) => {
      const answers: Answer[] = [];
      for (let i = 0; i < 4; i++) answers.push(await postImage(server.url, strip, 'image/png'));
      return answers;
    },
  });
  assertHarmless(report);
});

// A legal progressive JPEG may hold 883 scans of nearly empty data, each a pass over every block: 64 KB that cost
// libvips 3.9 s of CPU at 4000x4000. Refused from its markers before any decoding, on both decoding paths, and
// the legitimate traffic beside the attack must all succeed (assertHarmless).
for (const [width, height] of [
  [500, 8000],
  [4000, 4000],
] as const) {
  test(
    `${CONCURRENT} concurrent ${String(width)}x${String(height)} JPEGs of 883 scans to /predict`,
    { timeout: 120_000 },
    async (t) => {
      const bomb = progressiveScans(883, width, height);
      const report = await runAttack(t, {
        name: `scan bomb ${String(width)}x${String(height)} (${(bomb.length / 1024).toFixed(0)} KiB) ×${CONCURRENT}`,
        timeLimitMs: 60_000,
        attack: ({ server }) =>
          Promise.all(Array.from({ length: CONCURRENT }, () => postImage(server.url, bomb, 'image/jpeg'))),
      });
      // Refused by the probe on the main thread, before the request takes any of --max-decode-pixels: when the
      // check came later, a burst of these held the budget and a legitimate upload beside them got a 503.
      const other = report.answers.filter(
        (answer) => !(answer.code === '400' && /more than 32 scans/.test(answer.text)),
      );
      assertHarmless(report, {}, [
        other.length > 0 &&
          `not refused for their scans: ${other.map((a) => `${a.code} ${a.text.slice(0, 120)}`).join('; ')}`,
      ]);
    },
  );
}
