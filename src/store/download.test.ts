import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SkiffError } from '../core/errors.js';
import { cachedFilePath } from './cached-file-path.js';
import { download } from './download.js';
import { redactUrl } from './redact-url.js';
import { startFixtureServer } from '../../test/helpers/fixture-server.js';
import type { FixtureServer } from '../../test/helpers/fixture-server.js';
import { defaultModel } from '../../test/helpers/paths.js';
import { skiffErrorMatcher } from '../../test/helpers/skiff-error-matcher.js';

// The committed default model (MobileNet V2 int8, 3.6 MB): large enough to arrive in many chunks.
const mobilenetFile = defaultModel();
const MOBILENET_SHA256 = 'de0be279154ebd0b40f33b7bc0d1390cb353725ee14f4508d0b37ef8dc224888';
const MOBILENET_BYTES = 3563808;

/** Every file below `dir`, relative, hidden ones included: the cache must hold nothing after a failure. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

describe('download', () => {
  let server: FixtureServer;
  let tempRoot: string;

  before(async () => {
    tempRoot = await mkdtemp(path.join(os.tmpdir(), 'skiff-download-'));
    server = await startFixtureServer({
      '/models/mobilenet.onnx': { file: mobilenetFile },
      '/redirect/mobilenet.onnx': { redirect: '/models/mobilenet.onnx' },
      '/private/mobilenet.onnx': { file: mobilenetFile, basicAuth: 'alice:s3cret' },
      '/stall/mobilenet.onnx': { stall: mobilenetFile },
    });
  });

  after(async () => {
    await server.close();
    await rm(tempRoot, { recursive: true, force: true });
  });

  async function freshCache(): Promise<string> {
    return mkdtemp(path.join(tempRoot, 'cache-'));
  }

  it('serves the committed model whose sha256 and size the tests pin', async () => {
    const bytes = await readFile(mobilenetFile);
    assert.equal(bytes.length, MOBILENET_BYTES);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), MOBILENET_SHA256);
  });

  it('downloads once, verifies, and reuses the cached file with no network access', async () => {
    const cacheDir = await freshCache();
    const url = `${server.url}/models/mobilenet.onnx`;
    const first = await download(url, { cacheDir, sha256: MOBILENET_SHA256, expectedBytes: MOBILENET_BYTES });

    assert.equal(first, path.join(cacheDir, 'sha256', MOBILENET_SHA256, 'mobilenet.onnx'));
    assert.ok((await readFile(first)).equals(await readFile(mobilenetFile)));
    assert.deepEqual(await filesUnder(cacheDir), [path.join('sha256', MOBILENET_SHA256, 'mobilenet.onnx')]);

    // A second, separately started server that is closed at once: any request would be refused.
    const closed = await startFixtureServer({ '/models/mobilenet.onnx': { file: mobilenetFile } });
    await closed.close();
    const offlineUrl = `${closed.url}/models/mobilenet.onnx`;
    const requestsBefore = server.requests.length;
    const again = await download(offlineUrl, { cacheDir, sha256: MOBILENET_SHA256 });
    assert.equal(again, first);
    assert.equal(server.requests.length, requestsBefore);
  });

  it('reuses a URL-keyed file after the server is closed', async () => {
    const cacheDir = await freshCache();
    const own = await startFixtureServer({ '/m/model.onnx': { file: mobilenetFile } });
    const url = `${own.url}/m/model.onnx`;
    let first: string;
    try {
      first = await download(url, { cacheDir });
      assert.equal(own.requests.length, 1);
      assert.equal(path.dirname(path.dirname(path.relative(cacheDir, first))), 'url');
    } finally {
      // Left open by a failure above, this server would keep the test process alive for ever.
      await own.close();
    }

    assert.equal(await download(url, { cacheDir }), first);
    assert.equal(own.requests.length, 1);
  });

  it('refuses a wrong sha256 and leaves nothing in the cache', async () => {
    const cacheDir = await freshCache();
    const wrong = 'ab'.repeat(32);
    await assert.rejects(
      download(`${server.url}/models/mobilenet.onnx`, { cacheDir, sha256: wrong }),
      skiffErrorMatcher(
        'SKIFF_CHECKSUM_MISMATCH',
        new RegExp(`expected sha256 ${wrong}, got ${MOBILENET_SHA256}`),
      ),
    );
    assert.deepEqual(await filesUnder(cacheDir), []);
  });

  it('refuses a body of the wrong size when a sha256 is pinned', async () => {
    const cacheDir = await freshCache();
    await assert.rejects(
      download(`${server.url}/models/mobilenet.onnx`, {
        cacheDir,
        sha256: 'cd'.repeat(32),
        expectedBytes: MOBILENET_BYTES - 1,
      }),
      skiffErrorMatcher('SKIFF_CHECKSUM_MISMATCH', /more than 3563807 bytes/),
    );
    assert.deepEqual(await filesUnder(cacheDir), []);
  });

  it('reports an HTTP error status', async () => {
    const cacheDir = await freshCache();
    await assert.rejects(
      download(`${server.url}/missing.onnx`, { cacheDir }),
      skiffErrorMatcher('SKIFF_DOWNLOAD_FAILED', /missing\.onnx: HTTP 404 Not Found\..*local path/),
    );
    assert.deepEqual(await filesUnder(cacheDir), []);
  });

  it('reports a refused connection', async () => {
    const cacheDir = await freshCache();
    const closed = await startFixtureServer();
    await closed.close();
    await assert.rejects(
      download(`${closed.url}/model.onnx`, { cacheDir }),
      skiffErrorMatcher('SKIFF_DOWNLOAD_FAILED', /connection refused/),
    );
  });

  it('discards a body cut off mid-way, then succeeds on the next attempt', async () => {
    const cacheDir = await freshCache();
    server.routes.set('/flaky/mobilenet.onnx', { truncate: mobilenetFile });
    const url = `${server.url}/flaky/mobilenet.onnx`;
    await assert.rejects(
      download(url, { cacheDir, sha256: MOBILENET_SHA256 }),
      skiffErrorMatcher('SKIFF_DOWNLOAD_FAILED', /connection closed by the server after [\d.]+ of 3\.6 MB/),
    );
    assert.deepEqual(await filesUnder(cacheDir), []);

    server.routes.set('/flaky/mobilenet.onnx', { file: mobilenetFile });
    const cached = await download(url, { cacheDir, sha256: MOBILENET_SHA256 });
    assert.ok((await readFile(cached)).equals(await readFile(mobilenetFile)));
    assert.deepEqual(await filesUnder(cacheDir), [path.join('sha256', MOBILENET_SHA256, 'mobilenet.onnx')]);
  });

  it('follows redirects', async () => {
    const cacheDir = await freshCache();
    const start = server.requests.length;
    const cached = await download(`${server.url}/redirect/mobilenet.onnx`, {
      cacheDir,
      sha256: MOBILENET_SHA256,
    });
    assert.deepEqual(server.requests.slice(start), ['/redirect/mobilenet.onnx', '/models/mobilenet.onnx']);
    assert.equal(path.basename(cached), 'mobilenet.onnx');
  });

  it('stops when aborted and leaves nothing behind', async () => {
    const cacheDir = await freshCache();
    const controller = new AbortController();
    const pending = download(`${server.url}/stall/mobilenet.onnx`, { cacheDir, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(pending, skiffErrorMatcher('SKIFF_DOWNLOAD_FAILED', /aborted/));
    assert.deepEqual(await filesUnder(cacheDir), []);
  });

  it('sends URL credentials as Basic auth and never shows them in messages', async () => {
    const cacheDir = await freshCache();
    const secretUrl = (file: string): string =>
      `${server.url.replace('//', '//alice:s3cret@')}/private/${file}?token=tok123`;

    const cached = await download(secretUrl('mobilenet.onnx'), { cacheDir, sha256: MOBILENET_SHA256 });
    assert.ok((await readFile(cached)).equals(await readFile(mobilenetFile)));

    // One at a time: started together, a refusal could settle before its turn to be awaited (unhandled).
    for (const attempt of [
      () => download(secretUrl('nothing.onnx'), { cacheDir }),
      () => download(secretUrl('mobilenet.onnx').replace('s3cret', 'wrong'), { cacheDir }),
      () => download(secretUrl('mobilenet.onnx'), { cacheDir, sha256: 'ef'.repeat(32) }),
    ]) {
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(error instanceof SkiffError);
        assert.doesNotMatch(error.message, /s3cret|wrong|tok123|alice/);
        assert.match(error.message, /\/private\//);
        return true;
      });
    }
  });

  it('redacts URLs and keys the cache without credentials', () => {
    assert.equal(redactUrl('https://u:p@example.com/a/b.onnx?sig=x#f'), 'https://example.com/a/b.onnx');
    assert.equal(
      cachedFilePath('https://u:p@example.com/a/b.onnx', { cacheDir: '/c' }),
      cachedFilePath('https://example.com/a/b.onnx', { cacheDir: '/c' }),
    );
    assert.throws(
      () => cachedFilePath('https://example.com/x', { cacheDir: '/c', sha256: '../../etc' }),
      skiffErrorMatcher('SKIFF_CONFIG_INVALID'),
    );
    assert.equal(
      cachedFilePath('https://example.com/dir/..%2F.hidden%20name.onnx', {
        cacheDir: '/c',
        sha256: 'AB'.repeat(32),
      }),
      path.join('/c', 'sha256', 'ab'.repeat(32), '_.hidden_name.onnx'),
    );
  });
});
