import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SkiffError } from '../core/errors.js';
import { startFixtureServer } from '../../test/helpers/fixture-server.js';
import type { FixtureServer } from '../../test/helpers/fixture-server.js';
import { sharedDir } from '../../test/helpers/paths.js';
import { skiffErrorMatcher } from '../../test/helpers/skiff-error-matcher.js';
import { modelPathIfAtHand, resolveCacheDir, resolveModelSource } from './resolve-model-source.js';
import { ZOO } from './zoo.js';

const modelsDir = path.join(sharedDir(), 'models');
const mobilenetFile = path.join(
  modelsDir,
  'mobilenet_v2_1.0_224_quant/mobilenet_v2_1.0_224_quant_imagenet.onnx',
);
const MOBILENET_SHA256 = 'de0be279154ebd0b40f33b7bc0d1390cb353725ee14f4508d0b37ef8dc224888';
const squeezenetFile = path.join(modelsDir, 'squeezenet1.1/squeezenet1.1_imagenet.onnx');
// Byte-identical to the zoo's synset.txt (same sha256), so the labels download can succeed for real.
const synsetFile = path.join(modelsDir, 'imagenet-labels/synset_words.txt');

describe('resolveModelSource', () => {
  let server: FixtureServer;
  let tempRoot: string;

  before(async () => {
    tempRoot = await mkdtemp(path.join(os.tmpdir(), 'skiff-resolve-'));
    server = await startFixtureServer({
      '/files/mobilenet_v2_1.0_224_quant_imagenet.onnx': { file: mobilenetFile },
      // A mirror whose resnet50 is really SqueezeNet: the zoo pin must catch it.
      '/zoo/validated/vision/classification/resnet/model/resnet50-v1-12.onnx': { file: squeezenetFile },
      '/zoo/validated/vision/classification/synset.txt': { file: synsetFile },
    });
  });

  after(async () => {
    await server.close();
    await rm(tempRoot, { recursive: true, force: true });
  });

  it('downloads an http URL, named after the file', async () => {
    const cacheDir = await mkdtemp(path.join(tempRoot, 'cache-'));
    const source = await resolveModelSource(`${server.url}/files/mobilenet_v2_1.0_224_quant_imagenet.onnx`, {
      cacheDir,
      sha256: MOBILENET_SHA256,
    });
    assert.deepEqual(source, {
      modelPath: path.join(cacheDir, 'sha256', MOBILENET_SHA256, 'mobilenet_v2_1.0_224_quant_imagenet.onnx'),
      defaultName: 'mobilenet_v2_1.0_224_quant_imagenet',
      origin: 'url',
    });
  });

  it('refuses a zoo download whose content is not the pinned file', async () => {
    const cacheDir = await mkdtemp(path.join(tempRoot, 'cache-'));
    const start = server.requests.length;
    await assert.rejects(
      resolveModelSource('resnet50', { cacheDir, zooBaseUrl: `${server.url}/zoo/` }),
      skiffErrorMatcher(
        'SKIFF_CHECKSUM_MISMATCH',
        new RegExp(`resnet50-v1-12\\.onnx .*expected sha256 ${ZOO.resnet50.model.sha256}`),
      ),
    );
    assert.deepEqual(server.requests.slice(start), [
      '/zoo/validated/vision/classification/synset.txt',
      '/zoo/validated/vision/classification/resnet/model/resnet50-v1-12.onnx',
    ]);
    // The verified labels stay cached; nothing of the wrong model does.
    const files = await readdir(cacheDir, { recursive: true, withFileTypes: true });
    assert.deepEqual(
      files
        .filter((entry) => entry.isFile())
        .map((entry) => path.join(path.relative(cacheDir, entry.parentPath), entry.name)),
      [path.join('sha256', ZOO.resnet50.labels.sha256, 'synset.txt')],
    );
  });

  it('refuses a sha256 option that contradicts the zoo pin before any download', async () => {
    const cacheDir = await mkdtemp(path.join(tempRoot, 'cache-'));
    const start = server.requests.length;
    await assert.rejects(
      resolveModelSource('mobilenetv2', {
        cacheDir,
        zooBaseUrl: `${server.url}/zoo/`,
        sha256: MOBILENET_SHA256,
      }),
      skiffErrorMatcher('SKIFF_CHECKSUM_MISMATCH', /pinned/),
    );
    assert.equal(server.requests.length, start);
  });

  it('reports a missing local file by its path', async () => {
    const missing = path.join(tempRoot, 'nowhere', 'model.onnx');
    await assert.rejects(resolveModelSource(missing, { cacheDir: tempRoot }), (error: unknown) => {
      skiffErrorMatcher('SKIFF_MODEL_FILE_MISSING')(error);
      assert.ok((error as SkiffError).message.includes(missing));
      assert.doesNotMatch((error as SkiffError).message, /zoo has/);
      return true;
    });
  });

  it('lists the zoo names for a mistyped zoo name', async () => {
    await assert.rejects(
      resolveModelSource('resnet-50', { cacheDir: tempRoot }),
      skiffErrorMatcher(
        'SKIFF_MODEL_FILE_MISSING',
        /"resnet-50" is not a model name Skiff knows \(shipped: mobilenetv2-int8; zoo: resnet50, resnet50-int8, resnet50-v2, mobilenetv2, squeezenet1\.1\)/,
      ),
    );
  });

  it('resolves a directory holding model.onnx and model.json', async () => {
    const dir = path.join(tempRoot, 'my-classifier');
    await mkdir(dir);
    await copyFile(mobilenetFile, path.join(dir, 'model.onnx'));
    await writeFile(path.join(dir, 'model.json'), JSON.stringify({ output: { kind: 'logits' } }));

    const source = await resolveModelSource(dir, { cacheDir: tempRoot, sha256: MOBILENET_SHA256 });
    assert.deepEqual(source, {
      modelPath: path.join(dir, 'model.onnx'),
      configPath: path.join(dir, 'model.json'),
      defaultName: 'my-classifier',
      origin: 'file',
    });
  });

  it('resolves a local file without model.json, and verifies a given sha256', async () => {
    assert.deepEqual(await resolveModelSource(squeezenetFile, { cacheDir: tempRoot }), {
      modelPath: squeezenetFile,
      defaultName: 'squeezenet1.1_imagenet',
      origin: 'file',
    });
    await assert.rejects(
      resolveModelSource(squeezenetFile, { cacheDir: tempRoot, sha256: MOBILENET_SHA256 }),
      skiffErrorMatcher('SKIFF_CHECKSUM_MISMATCH', /expected sha256 de0be279/),
    );
  });

  it('reports a directory without model.onnx', async () => {
    const dir = await mkdtemp(path.join(tempRoot, 'empty-'));
    await assert.rejects(
      resolveModelSource(dir, { cacheDir: tempRoot }),
      skiffErrorMatcher('SKIFF_MODEL_FILE_MISSING', /has no model\.onnx/),
    );
  });
});

describe('resolveCacheDir', () => {
  it('prefers SKIFF_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    const env = { SKIFF_CACHE_DIR: '/srv/skiff-cache', XDG_CACHE_HOME: '/xdg', HOME: '/home/u' };
    assert.equal(resolveCacheDir(env), '/srv/skiff-cache');
    assert.equal(resolveCacheDir({ ...env, SKIFF_CACHE_DIR: '' }), '/xdg/skiff');
    assert.equal(resolveCacheDir({ HOME: '/home/u', XDG_CACHE_HOME: 'relative' }), '/home/u/.cache/skiff');
    assert.equal(resolveCacheDir({}, '/home/v'), '/home/v/.cache/skiff');
  });
});

describe('modelPathIfAtHand', () => {
  it('names a local file, a directory model, and a zoo model only once it is in the cache', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'skiff-at-hand-'));
    try {
      const cacheDir = path.join(root, 'cache');
      const file = path.join(root, 'm.onnx');
      await writeFile(file, 'x');
      await mkdir(path.join(root, 'dir'));
      await writeFile(path.join(root, 'dir', 'model.onnx'), 'x');
      await mkdir(path.join(root, 'empty'));
      assert.equal(modelPathIfAtHand(file, { cacheDir }), file);
      assert.equal(
        modelPathIfAtHand(path.join(root, 'dir'), { cacheDir }),
        path.join(root, 'dir', 'model.onnx'),
      );
      assert.equal(modelPathIfAtHand(path.join(root, 'empty'), { cacheDir }), undefined);
      assert.equal(modelPathIfAtHand(path.join(root, 'missing.onnx'), { cacheDir }), undefined);
      assert.equal(modelPathIfAtHand('https://example.com/m.onnx', { cacheDir }), undefined);
      assert.equal(modelPathIfAtHand('', { cacheDir }), undefined);

      assert.equal(modelPathIfAtHand('mobilenetv2', { cacheDir }), undefined);
      const entry = ZOO.mobilenetv2;
      const cached = path.join(cacheDir, 'sha256', entry.model.sha256, path.posix.basename(entry.model.path));
      await mkdir(path.dirname(cached), { recursive: true });
      await writeFile(cached, 'x');
      assert.equal(modelPathIfAtHand('mobilenetv2', { cacheDir }), cached);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
