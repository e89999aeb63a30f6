import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFixtureServer } from '../../test/helpers/fixture-server.js';
import type { FixtureServer } from '../../test/helpers/fixture-server.js';
import { repoRoot } from '../../test/helpers/paths.js';
import { skiffErrorMatcher } from '../../test/helpers/skiff-error-matcher.js';
import { DEFAULT_MODEL, embeddedModelNames, findEmbeddedModel } from './embedded-models.js';
import { modelPathIfAtHand, resolveModelSource } from './resolve-model-source.js';
import { ZOO } from './zoo.js';

describe('the model shipped with Skiff', () => {
  let tempRoot: string;
  let server: FixtureServer;

  before(async () => {
    tempRoot = await mkdtemp(path.join(os.tmpdir(), 'skiff-embedded-'));
    // Every zoo path answers 503: a mirror that is down, as good as no network for the message under test.
    server = await startFixtureServer();
  });

  after(async () => {
    await server.close();
    await rm(tempRoot, { recursive: true, force: true });
  });

  it('is the default, lives in the repository, and its size and checksum are the ones its PROVENANCE states', async () => {
    const model = findEmbeddedModel(DEFAULT_MODEL);
    assert.ok(model !== undefined);
    assert.deepEqual(embeddedModelNames(), [DEFAULT_MODEL]);
    assert.equal(model.dir, path.join(repoRoot(), 'models', DEFAULT_MODEL) + path.sep);
    const bytes = await readFile(path.join(model.dir, 'model.onnx'));
    assert.equal(bytes.length, model.bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const provenance = await readFile(path.join(model.dir, 'PROVENANCE.md'), 'utf8');
    assert.ok(provenance.includes(sha256), `PROVENANCE.md does not state the model's sha256 ${sha256}`);
    assert.match(provenance, /Apache License 2\.0/);
    assert.deepEqual((await readdir(model.dir)).sort(), [
      'PROVENANCE.md',
      'labels.txt',
      'model.json',
      'model.onnx',
    ]);
  });

  it('resolves by name to its folder, with model.json, and nothing is downloaded or cached', async () => {
    const cacheDir = await mkdtemp(path.join(tempRoot, 'cache-'));
    const source = await resolveModelSource(DEFAULT_MODEL, { cacheDir });
    const dir = path.join(repoRoot(), 'models', DEFAULT_MODEL);
    assert.deepEqual(source, {
      modelPath: path.join(dir, 'model.onnx'),
      configPath: path.join(dir, 'model.json'),
      defaultName: DEFAULT_MODEL,
      origin: 'embedded',
    });
    assert.deepEqual(await readdir(cacheDir), []);
    assert.equal(modelPathIfAtHand(DEFAULT_MODEL, { cacheDir }), path.join(dir, 'model.onnx'));
  });

  it('is named in a failed zoo download, with the other offline ways', async () => {
    const cacheDir = await mkdtemp(path.join(tempRoot, 'cache-'));
    await assert.rejects(
      resolveModelSource('resnet50', { cacheDir, zooBaseUrl: `${server.url}/down/` }),
      skiffErrorMatcher(
        'SKIFF_DOWNLOAD_FAILED',
        new RegExp(
          `--zoo-base-url .*; or a copy of the file: --model \\./resnet50-v1-12\\.onnx --model-sha256 ${ZOO.resnet50.model.sha256}; or leave --model out to serve ${DEFAULT_MODEL}, which ships with Skiff\\.$`,
        ),
      ),
    );
  });
});
