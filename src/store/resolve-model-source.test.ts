import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SkiffError } from '../core/errors.js';
import { startFixtureServer } from '../../test/helpers/fixture-server.js';
import type { FixtureServer } from '../../test/helpers/fixture-server.js';
import { IMAGENET_LABELS, defaultModel, testModel } from '../../test/helpers/paths.js';
import { skiffErrorMatcher } from '../../test/helpers/skiff-error-matcher.js';
import { modelPathIfAtHand, resolveCacheDir, resolveModelSource } from './resolve-model-source.js';
import { ZOO } from './zoo.js';

const mobilenetFile = defaultModel();
const MOBILENET_SHA256 = 'de0be279154ebd0b40f33b7bc0d1390cb353725ee14f4508d0b37ef8dc224888';
const squeezenetFile = testModel('SqueezeNet_fp16.onnx');
// The same 1000 classes as the zoo's synset.txt, but not that file (no WordNet ids): its sha256 differs from the pin.
const labelsFile = IMAGENET_LABELS();

async function sha256Of(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/** Every file below `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(path.relative(dir, entry.parentPath), entry.name));
}

describe('resolveModelSource', () => {
  let server: FixtureServer;
  let tempRoot: string;

  before(async () => {
    tempRoot = await mkdtemp(path.join(os.tmpdir(), 'skiff-resolve-'));
    server = await startFixtureServer({
      '/files/mobilenetv2-int8.onnx': { file: mobilenetFile },
      // A mirror whose resnet50 is really SqueezeNet: the zoo pin must catch it.
      '/zoo/validated/vision/classification/resnet/model/resnet50-v1-12.onnx': { file: squeezenetFile },
      // A mirror whose synset.txt is another labels file: the labels pin must catch it, before the model.
      '/bad-labels/validated/vision/classification/synset.txt': { file: labelsFile },
      '/bad-labels/validated/vision/classification/resnet/model/resnet50-v1-12.onnx': {
        file: squeezenetFile,
      },
    });
  });

  after(async () => {
    await server.close();
    await rm(tempRoot, { recursive: true, force: true });
  });

  it('downloads an http URL, named after the file', async () => {
    const cacheDir = await mkdtemp(path.join(tempRoot, 'cache-'));
    const source = await resolveModelSource(`${server.url}/files/mobilenetv2-int8.onnx`, {
      cacheDir,
      sha256: MOBILENET_SHA256,
    });
    assert.deepEqual(source, {
      modelPath: path.join(cacheDir, 'sha256', MOBILENET_SHA256, 'mobilenetv2-int8.onnx'),
      defaultName: 'mobilenetv2-int8',
      origin: 'url',
    });
  });

  it('refuses a zoo download whose content is not the pinned file', async () => {
    const cacheDir = await mkdtemp(path.join(tempRoot, 'cache-'));
    // The pinned synset.txt is not committed, so its download cannot succeed here: it is in the cache
    // already, as an earlier run leaves it (a cached file is used without a transfer, see download.test.ts).
    const labelsInCache = path.join('sha256', ZOO.resnet50.labels.sha256, 'synset.txt');
    await mkdir(path.join(cacheDir, path.dirname(labelsInCache)), { recursive: true });
    await copyFile(labelsFile, path.join(cacheDir, labelsInCache));
    const start = server.requests.length;
    await assert.rejects(
      resolveModelSource('resnet50', { cacheDir, zooBaseUrl: `${server.url}/zoo/` }),
      skiffErrorMatcher(
        'SKIFF_CHECKSUM_MISMATCH',
        new RegExp(
          `resnet50-v1-12\\.onnx .*expected sha256 ${ZOO.resnet50.model.sha256}.*, got ${await sha256Of(squeezenetFile)}`,
        ),
      ),
    );
    assert.deepEqual(server.requests.slice(start), [
      '/zoo/validated/vision/classification/resnet/model/resnet50-v1-12.onnx',
    ]);
    // The labels stay cached; nothing of the wrong model does.
    assert.deepEqual(await filesUnder(cacheDir), [labelsInCache]);
  });

  it('refuses a zoo mirror whose labels are not the pinned file, before any model transfer', async () => {
    const cacheDir = await mkdtemp(path.join(tempRoot, 'cache-'));
    const start = server.requests.length;
    await assert.rejects(
      resolveModelSource('resnet50', { cacheDir, zooBaseUrl: `${server.url}/bad-labels/` }),
      skiffErrorMatcher(
        'SKIFF_CHECKSUM_MISMATCH',
        new RegExp(
          `synset\\.txt .*expected sha256 ${ZOO.resnet50.labels.sha256}, got ${await sha256Of(labelsFile)}`,
        ),
      ),
    );
    assert.deepEqual(server.requests.slice(start), [
      '/bad-labels/validated/vision/classification/synset.txt',
    ]);
    assert.deepEqual(await filesUnder(cacheDir), []);
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
      defaultName: 'SqueezeNet_fp16',
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
