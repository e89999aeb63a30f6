// The web page's routes: on by default and a plain 404 when off, its files with the right types and cache
// headers, the sample photos (image files of one folder, nothing else reachable), and the token rules.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunningServer } from '../../src/server.js';
import { fixtureModel, repoRoot, testImage } from '../helpers/paths.js';
import { startTestServer } from '../helpers/test-server.js';
import { skiffErrorMatcher } from '../helpers/skiff-error-matcher.js';
import { appEntries } from '../../src/deploy/image/layer-sources.js';

const TOKEN = 'a-long-enough-test-token';
const MODEL = fixtureModel('tiny-color/model.onnx');

/** A samples folder with one photo and everything that must not be served beside it. */
function samplesFolder(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'skiff-samples-'));
  const dir = path.join(root, 'samples');
  mkdirSync(path.join(dir, 'nested'), { recursive: true });
  copyFileSync(testImage('samoyed_128.png'), path.join(dir, 'samoyed_128.png'));
  copyFileSync(testImage('samoyed_128.png'), path.join(dir, 'nested', 'inner.png'));
  copyFileSync(testImage('samoyed_128.png'), path.join(dir, '.hidden.png'));
  writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
  writeFileSync(path.join(root, 'outside.png'), 'outside the folder');
  symlinkSync(path.join(root, 'outside.png'), path.join(dir, 'escape.png'));
  symlinkSync('/etc/passwd', path.join(dir, 'passwd.jpg'));
  symlinkSync(path.join(dir, 'samoyed_128.png'), path.join(dir, 'alias.png'));
  return dir;
}

describe('the web page, on (the default), with samples and a token', () => {
  let server: RunningServer;
  const auth = { authorization: `Bearer ${TOKEN}` };
  before(async () => {
    server = await startTestServer({ model: MODEL, uiSamples: samplesFolder(), authToken: TOKEN });
  });
  after(async () => {
    await server.close();
  });

  test('GET / is the page, without a token, with a strict CSP and a validator; a 304 when unchanged', async () => {
    const response = await fetch(`${server.url}/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    assert.match(
      response.headers.get('content-security-policy') ?? '',
      /default-src 'none'; script-src 'self'/,
    );
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    const html = await response.text();
    assert.match(html, /<script type="module" src="\/ui\/assets\/client\/main.js"><\/script>/);
    assert.match(html, /<link rel="modulepreload" href="\/ui\/assets\/logic\/format.js">/);
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from another host');
    const etag = response.headers.get('etag');
    assert.match(etag ?? '', /^"[0-9a-f]{20}"$/);
    const again = await fetch(`${server.url}/`, { headers: { 'if-none-match': etag ?? '' } });
    assert.equal(again.status, 304);
    const post = await fetch(`${server.url}/`, { method: 'POST', headers: auth });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
  });

  test('its scripts and stylesheet are served with their types; tests, maps and other files are not', async () => {
    const script = await fetch(`${server.url}/ui/assets/client/main.js`);
    assert.equal(script.status, 200);
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(script.headers.get('cache-control'), 'no-cache');
    assert.doesNotMatch(await script.text(), /sourceMappingURL/);
    const logic = await fetch(`${server.url}/ui/assets/logic/histogram.js`);
    assert.equal(logic.status, 200);
    const css = await fetch(`${server.url}/ui/assets/ui.css`);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    for (const name of [
      'logic/histogram.test.js',
      'client/main.js.map',
      'client/tsconfig.json',
      '..%2F..%2F..%2F..%2F..%2Fpackage.json',
      'client%2F..%2F..%2Fui-routes.js',
      'index.html',
    ]) {
      const response = await fetch(`${server.url}/ui/assets/${name}`);
      assert.equal(response.status, 404, name);
      assert.match(((await response.json()) as { error: string }).error, /^no page asset/);
    }
  });

  test('the JSON API needs the token like every other route', async () => {
    for (const route of [
      '/ui/api/models',
      '/ui/api/history',
      '/ui/api/samples',
      '/ui/api/samples/samoyed_128.png',
    ])
      assert.equal((await fetch(`${server.url}${route}`)).status, 401, route);
  });

  test('models: each version with its state and whether it takes images', async () => {
    const response = await fetch(`${server.url}/ui/api/models`, { headers: auth });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = (await response.json()) as { server: { name: string }; models: unknown[] };
    assert.equal(body.server.name, 'skiff');
    assert.deepEqual(body.models, [
      { name: 'tiny-color', version: '1', state: 'ready', reason: 'ready', takesImages: true },
    ]);
  });

  test('history: kept samples every 5 s plus one of this moment, with the requests made so far', async () => {
    const image = readFileSync(testImage('samoyed_128.png'));
    const form = new FormData();
    form.append('image', new Blob([image], { type: 'image/png' }), 'samoyed.png');
    const predict = await fetch(`${server.url}/predict`, { method: 'POST', body: form, headers: auth });
    assert.equal(predict.status, 200);
    assert.match(predict.headers.get('server-timing') ?? '', /^app;dur=\d+(\.\d)?$/);
    const response = await fetch(`${server.url}/ui/api/history`, { headers: auth });
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      intervalMs: number;
      samples: { timeMs: number }[];
      now: {
        timeMs: number;
        models: { model: string; success: number; ready: boolean }[];
        latency: { count: number };
      };
    };
    assert.equal(body.intervalMs, 5000);
    assert.ok(body.samples.length >= 1, 'a first sample is taken at start');
    assert.deepEqual(
      body.now.models.map((m) => [m.model, m.success, m.ready]),
      [['tiny-color', 1, true]],
    );
    assert.equal(body.now.latency.count, 1);
    const newer = await fetch(`${server.url}/ui/api/history?since=${Date.now() + 60_000}`, { headers: auth });
    assert.deepEqual(((await newer.json()) as { samples: unknown[] }).samples, []);
    const bad = await fetch(`${server.url}/ui/api/history?since=yesterday`, { headers: auth });
    assert.equal(bad.status, 400);
  });

  test('samples: only image files directly in the folder, and symlinks that stay inside it', async () => {
    const response = await fetch(`${server.url}/ui/api/samples`, { headers: auth });
    assert.equal(response.status, 200);
    const bytes = readFileSync(testImage('samoyed_128.png')).length;
    assert.deepEqual(await response.json(), {
      samples: [
        { name: 'alias.png', bytes, type: 'image/png' },
        { name: 'samoyed_128.png', bytes, type: 'image/png' },
      ],
    });
    const photo = await fetch(`${server.url}/ui/api/samples/samoyed_128.png`, { headers: auth });
    assert.equal(photo.status, 200);
    assert.equal(photo.headers.get('content-type'), 'image/png');
    assert.equal(photo.headers.get('cache-control'), 'private, max-age=300');
    assert.deepEqual(Buffer.from(await photo.arrayBuffer()), readFileSync(testImage('samoyed_128.png')));
  });

  test('no other file is reachable through the samples route', async () => {
    for (const name of [
      'notes.txt',
      '.hidden.png',
      'escape.png',
      'passwd.jpg',
      'nested',
      'nested%2Finner.png',
      '..%2Foutside.png',
      '..%2F..%2F..%2F..%2Fetc%2Fpasswd',
      '%2Fetc%2Fpasswd',
    ]) {
      const response = await fetch(`${server.url}/ui/api/samples/${name}`, { headers: auth });
      assert.equal(response.status, 404, name);
      assert.match(((await response.json()) as { error: string }).error, /^no sample image/);
    }
  });
});

describe('the web page, off', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ model: MODEL, ui: false });
  });
  after(async () => {
    await server.close();
  });

  test('/ and every /ui route are 404 like any unknown route', async () => {
    for (const route of ['/', '/ui/assets/client/main.js', '/ui/api/models', '/ui/api/samples']) {
      const response = await fetch(`${server.url}${route}`);
      assert.equal(response.status, 404, route);
      assert.deepEqual(await response.json(), {
        error: `no route GET ${route}; see docs/api.md for the routes`,
      });
    }
  });
});

test('a --ui-samples folder that does not exist stops start-up with the option named', async () => {
  await assert.rejects(
    startTestServer({ model: MODEL, uiSamples: path.join(repoRoot(), 'no-such-folder') }),
    skiffErrorMatcher(
      'SKIFF_CONFIG_INVALID',
      /^option --ui-samples: .*no-such-folder is not a readable folder$/,
    ),
  );
});

test('skiff build puts the page into the image: its compiled modules, its HTML and CSS, and no tests', async () => {
  const paths = (await appEntries(repoRoot(), 'app')).map((e) => e.path);
  for (const file of [
    'app/dist/src/adapters/http/ui/client/main.js',
    'app/dist/src/adapters/http/ui/logic/histogram.js',
    'app/dist/src/adapters/http/ui/ui-assets.js',
    'app/src/adapters/http/ui/static/index.html',
    'app/src/adapters/http/ui/static/ui.css',
  ])
    assert.ok(paths.includes(file), file);
  assert.deepEqual(
    paths.filter((p) => p.includes('/ui/') && /\.(test\.js|map|ts)$/.test(p)),
    [],
  );
});
