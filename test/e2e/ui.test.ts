// The web page in a real browser (Debian's chromium driven by playwright-core) against the real server and
// the committed real models, one per input contract, served together from a model repository.
// Screenshots land in test-artifacts/ui/ (gitignored); the README's copy is refreshed with
// SKIFF_UPDATE_SCREENSHOTS=1 (or written when missing).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import type { RunningServer } from '../../src/server.js';
import type { ModelConfigFile } from '../../src/core/model/model-config.js';
import {
  IMAGENET_LABELS,
  LABELS_1001,
  defaultModel,
  repoRoot,
  testImage,
  testImagesDir,
  testModel,
} from '../helpers/paths.js';
import { startTestServer } from '../helpers/test-server.js';
import { NETWORK_CHANGED, chromiumMissing, launchChromium, openWhenReady } from '../helpers/chromium.js';
import { MOBILENET_V1_NATIVE_CONFIG, SQUEEZENET_FP16_CONFIG } from '../helpers/real-model-configs.js';

const ARTIFACTS = path.join(repoRoot(), 'test-artifacts', 'ui');
const README_SCREENSHOT = path.join(repoRoot(), 'docs', 'images', 'ui-try.png');
// MobileNet V2 says hotdog 0.98 for it.
const PHOTO = 'hotdog.jpg';
// The photo every model here gets right, even MobileNet V1 0.25 (Egyptian_cat 0.68; hotdog.jpg is banded_gecko to it).
const SAMPLE = 'egyptian_cat.png';

interface RepositoryModel {
  readonly name: string;
  readonly file: string;
  readonly labels: string;
  readonly config?: ModelConfigFile;
}

/** Every input contract of the committed models (test/assets/PROVENANCE.md), one model each. */
const MODELS: readonly RepositoryModel[] = [
  {
    // float32 NCHW RGB, ImageNet mean/std, 1000 logits: the torchvision contract, no config needed.
    name: 'mobilenet_v2',
    file: defaultModel(),
    labels: IMAGENET_LABELS(),
  },
  {
    // uint8 NHWC at 128 px, 1001 classes with background, spelled out in model.json.
    name: 'mobilenet_v1_native_explicit',
    file: testModel('mobilenet_v1_0.25_128_quant_native.onnx'),
    labels: LABELS_1001(),
    config: MOBILENET_V1_NATIVE_CONFIG,
  },
  {
    // The same model with no config: the contract is read from the model itself.
    name: 'mobilenet_v1_0.25_128_native',
    file: testModel('mobilenet_v1_0.25_128_quant_native.onnx'),
    labels: LABELS_1001(),
  },
  {
    // float16 BGR 0..255 minus the Caffe mean, softmax output.
    name: 'squeezenet_fp16',
    file: testModel('SqueezeNet_fp16.onnx'),
    labels: IMAGENET_LABELS(),
    config: SQUEEZENET_FP16_CONFIG,
  },
];

function makeRepository(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'skiff-ui-repo-'));
  for (const model of MODELS) {
    const dir = path.join(root, model.name);
    mkdirSync(dir);
    copyFileSync(model.file, path.join(dir, 'model.onnx'));
    copyFileSync(model.labels, path.join(dir, 'labels.txt'));
    if (model.config !== undefined) writeFileSync(path.join(dir, 'model.json'), JSON.stringify(model.config));
  }
  return root;
}

/** The page's own colour of each element and of the first opaque background behind it, as rgb() strings. */
const COLOUR_PAIRS = `[...document.querySelectorAll(${JSON.stringify(
  'body, label, .muted, nav a, button:not(:disabled), .error, .bars .label, .pct, .state-ready, .chart figcaption span, th, td, pre, select',
)})].filter((e) => e.offsetParent !== null || e === document.body).map((e) => {
  let bg = e;
  while (bg && getComputedStyle(bg).backgroundColor.replace(/\\s/g, '').match(/rgba\\(.*,0\\)|transparent/)) bg = bg.parentElement;
  return [e.tagName + '.' + e.className, getComputedStyle(e).color, bg ? getComputedStyle(bg).backgroundColor : 'rgb(255, 255, 255)'];
})`;

/** WCAG 2 contrast ratio of two rgb()/rgba() colours (alpha ignored: the page uses opaque colours). */
function contrast(a: string, b: string): number {
  const luminance = (colour: string): number => {
    const [r = 0, g = 0, bl = 0] = (colour.match(/[\d.]+/g) ?? []).map(Number);
    const channel = (c: number): number => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(bl);
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05);
}

/**
 * The server and chromium, started side by side. When one fails, the other is closed before the error goes
 * on: `after` never saw either, and a server left listening would keep the test process alive.
 */
async function startWithBrowser(starting: Promise<RunningServer>): Promise<[RunningServer, Browser]> {
  const [server, browser] = await Promise.allSettled([starting, launchChromium()]);
  if (server.status === 'fulfilled' && browser.status === 'fulfilled') return [server.value, browser.value];
  if (server.status === 'fulfilled') await server.value.close();
  if (browser.status === 'fulfilled') await browser.value.close();
  throw server.status === 'rejected' ? server.reason : (browser as PromiseRejectedResult).reason;
}

const missing = chromiumMissing();

describe('the web page in chromium', { skip: missing ?? false }, () => {
  let server: RunningServer;
  let browser: Browser;
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [server, browser] = await startWithBrowser(
      startTestServer({
        model: 'unused',
        modelRepository: makeRepository(),
        uiSamples: testImagesDir(),
        threadsPerWorker: 1,
      }),
    );
  });
  after(async () => {
    await browser.close();
    await server.close();
  });

  async function open(width: number, height: number): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    page.on('request', (request) => {
      if (!request.url().startsWith(`${server.url}/`) && !/^(data|blob):/.test(request.url()))
        foreignRequests.push(request.url());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await openWhenReady(page, `${server.url}/`, page.locator('#model option[value="mobilenet_v2"]'));
    return page;
  }

  /** Waits for the answer of `model` and returns the label of the top bar. */
  async function topLabel(page: Page, model: string): Promise<string> {
    // A locator, not waitForFunction: the page's CSP (no eval) also binds the test's injected predicates.
    const prefix = new RegExp(`^${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `);
    await page.locator('#status').filter({ hasText: prefix }).waitFor({ timeout: 30_000 });
    return (await page.locator('#bars li').first().locator('.label').textContent()) ?? '';
  }

  test('upload the hotdog photo: the top bar is hotdog, with latency and raw JSON', async () => {
    const page = await open(1280, 800);
    await page.selectOption('#model', 'mobilenet_v2');
    await page.setInputFiles('#file', testImage(PHOTO));
    assert.equal(await topLabel(page, 'mobilenet_v2'), 'hotdog');
    assert.equal(await page.locator('#bars li').count(), 5);
    assert.match((await page.locator('#bars li .pct').first().textContent()) ?? '', /^\d{2}\.\d%$/);
    assert.match(
      (await page.locator('#latency').textContent()) ?? '',
      /^Round trip [\d.]+ [µm]?s · in the server [\d.]+ [µm]?s$/,
    );
    const raw = JSON.parse((await page.locator('#raw').textContent()) ?? '') as {
      predictions: { label: string }[];
    };
    assert.equal(raw.predictions[0]?.label, 'hotdog');
    assert.equal(await page.locator('#preview').getAttribute('alt'), `The image to classify: ${PHOTO}`);
    assert.equal(await page.locator('#error').isHidden(), true);
    // WCAG AA: 4.5:1 for text, measured on what chromium actually renders.
    const pairs = await page.evaluate<[string, string, string][]>(COLOUR_PAIRS);
    assert.ok(pairs.length > 20, `only ${pairs.length} elements measured`);
    for (const [what, colour, background] of pairs)
      assert.ok(
        contrast(colour, background) >= 4.5,
        `${what}: ${colour} on ${background} is ${contrast(colour, background).toFixed(2)}:1`,
      );
    await page.screenshot({ path: path.join(ARTIFACTS, 'try-desktop.png') });
    if (!existsSync(README_SCREENSHOT) || process.env.SKIFF_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(path.dirname(README_SCREENSHOT), { recursive: true });
      // A palette PNG: about a quarter of the size, still sharp text.
      await sharp(path.join(ARTIFACTS, 'try-desktop.png'))
        .png({ palette: true, quality: 90, effort: 10 })
        .toFile(README_SCREENSHOT);
    }

    // A text file: the server's {"error": ...} is shown as an alert, and the old bars are gone.
    await page.setInputFiles('#file', {
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('not an image'),
    });
    const error = page.locator('#error');
    await error.waitFor({ state: 'visible' });
    assert.match((await error.textContent()) ?? '', /^the upload is not an image .*\(HTTP 400\)$/);
    assert.equal(await error.getAttribute('role'), 'alert');
    assert.equal(await page.locator('#bars li').count(), 0);
    assert.equal(await page.locator('#preview').isHidden(), true, 'no broken-image icon');
    assert.match((await page.locator('#raw').textContent()) ?? '', /"error"/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'error-desktop.png') });
    await page.context().close();
  });

  test('every model contract answers Egyptian_cat through the page (a sample photo)', async () => {
    const page = await open(1280, 800);
    const [first, ...others] = MODELS;
    assert.ok(first !== undefined);
    await page.selectOption('#model', first.name);
    await page.selectOption('#sample', SAMPLE);
    assert.equal(await topLabel(page, first.name), 'Egyptian_cat', first.name);
    for (const model of others) {
      // Changing the model classifies the same photo again.
      await page.selectOption('#model', model.name);
      assert.equal(await topLabel(page, model.name), 'Egyptian_cat', model.name);
    }
    await page.context().close();
  });

  test('the server view (reached by keyboard) shows the models, their state, the requests and the charts', async () => {
    const page = await open(1280, 800);
    await page.locator('#nav-server').focus();
    await page.keyboard.press('Enter');
    await page.locator('#view-server').waitFor({ state: 'visible' });
    const row = page.locator('#models tbody tr[data-model="mobilenet_v2"]');
    await row.waitFor();
    assert.equal(await row.locator('td').nth(1).textContent(), 'ready');
    assert.ok(Number(await row.locator('td.requests').textContent()) >= 2, 'the two uploads above');
    assert.equal(await page.locator('#models tbody tr').count(), MODELS.length);
    for (const chart of ['chart-rate', 'chart-latency', 'chart-batch']) {
      const svg = page.locator(`#${chart} svg[role="img"]`);
      await svg.waitFor();
      assert.match((await svg.getAttribute('aria-label')) ?? '', /latest/);
    }
    assert.match(
      (await page.locator('#server-status').textContent()) ?? '',
      /^4 model versions, 4 ready; \d+ inference requests/,
    );
    await page.screenshot({ path: path.join(ARTIFACTS, 'server-desktop.png') });
    await page.context().close();
  });

  test('a phone-sized window (390x844): no sideways scrolling, the file input is reachable by Tab', async () => {
    const page = await open(390, 844);
    let reached = false;
    for (let i = 0; i < 20 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = (await page.evaluate("document.activeElement?.id === 'file'")) === true;
    }
    assert.ok(reached, 'Tab reaches the file input (the drop zone)');
    await page.selectOption('#model', 'mobilenet_v2');
    await page.setInputFiles('#file', testImage(PHOTO));
    assert.equal(await topLabel(page, 'mobilenet_v2'), 'hotdog');
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'try-phone.png'), fullPage: true });
    await page.goto(`${server.url}/#server`);
    await page.locator('#models tbody tr').first().waitFor();
    const serverOverflow = Number(
      await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
    );
    assert.ok(serverOverflow <= 0, `the server view is ${serverOverflow} px wider than the window`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'server-phone.png'), fullPage: true });
    await page.context().close();
  });

  test('nothing was fetched from another host and the page logged no errors', (t) => {
    assert.deepEqual(foreignRequests, []);
    // The text-file upload answers 400, which chromium logs as a failed resource. Requests cut off by a
    // change of the host's network are the host's doing (see NETWORK_CHANGED); nothing else may fail.
    const networkChanges = pageErrors.filter((e) => NETWORK_CHANGED.test(e)).length;
    if (networkChanges > 0) t.diagnostic(`${networkChanges} requests were cut off by a network change`);
    const unexpected = pageErrors.filter((e) => !/status of 400/.test(e) && !NETWORK_CHANGED.test(e));
    assert.deepEqual(unexpected, [], `the page logged: ${JSON.stringify(unexpected)}`);
  });
});

describe(
  'the web page with --auth-token, one model (the usual `skiff serve --model`)',
  { skip: missing ?? false },
  () => {
    const token = 'a-long-enough-test-token';
    let server: RunningServer;
    let browser: Browser;
    before(async () => {
      [server, browser] = await startWithBrowser(
        startTestServer({
          // Its model.json beside it names it mobilenetv2-int8.
          model: defaultModel(),
          labels: IMAGENET_LABELS(),
          authToken: token,
          threadsPerWorker: 1,
        }),
      );
    });
    after(async () => {
      await browser.close();
      await server.close();
    });

    test('the page opens without the token, asks for it, and works once it is entered', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const error = page.locator('#error');
      await openWhenReady(page, `${server.url}/`, error.filter({ hasText: /Bearer/ }));
      await error.waitFor({ state: 'visible' });
      assert.match((await error.textContent()) ?? '', /Bearer <token>.*Enter the token under "Access token"/);
      assert.equal(await page.locator('#token-box').getAttribute('open'), '');
      await page.fill('#token', token);
      await page.press('#token', 'Enter');
      await page.locator('#model option[value="mobilenetv2-int8"]').waitFor({ state: 'attached' });
      assert.equal(await error.isHidden(), true);
      assert.equal(await page.evaluate('sessionStorage.getItem("skiff.token")'), token);
      await page.setInputFiles('#file', testImage(PHOTO));
      await page
        .locator('#status')
        .filter({ hasText: /^mobilenetv2-int8: / })
        .waitFor();
      assert.equal(await page.locator('#bars li .label').first().textContent(), 'hotdog');
      await page.close();
    });
  },
);

if (missing !== undefined) test(`browser tests skipped: ${missing}`, { skip: missing }, () => undefined);
