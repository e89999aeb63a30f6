// The repository's Containerfile, built for real by `skiff build --engine buildah`: a local build-stage base
// (this machine's node and npm), `npm ci` against the npm registry inside the build, the local run-time base,
// then run with podman like the image `skiff build` makes (test/e2e/image.test.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImageConfig, ImageManifest } from '../../src/deploy/image/media-types.js';
import { MEDIA_TYPES } from '../../src/deploy/image/media-types.js';
import { MALLOC_ENV } from '../../src/deploy/image/build-image.js';
import { freePort, requireCommands, startLocalRegistry } from '../helpers/local-registry.js';
import type { LocalRegistry } from '../helpers/local-registry.js';
import { pushNodeBase, pushNodeBuilder } from '../helpers/node-base-image.js';
import { IMAGENET_LABELS, defaultModel } from '../helpers/paths.js';
import { createPodman } from '../helpers/podman.js';
import type { Podman } from '../helpers/podman.js';
import { runCli } from '../helpers/run-cli.js';
import { assertServesAsNonRootAndDrains, predictsHotdog, waitReady } from '../helpers/container-checks.js';

const MODEL = defaultModel();
// npm ci of 315 packages inside the build is most of it: about 90 s with an empty npm cache on 2 shared cores.
const ENGINE_BUILD_TIMEOUT_MS = 300_000;

describe('the Containerfile, built with buildah and run with podman', { timeout: 600_000 }, () => {
  let work: string;
  let registry: LocalRegistry | undefined;
  let podman: Podman | undefined;
  let base: string;
  let builder: string;
  let tag: string;
  let env: Record<string, string>;

  before(async () => {
    requireCommands('docker-registry', 'podman', 'buildah', 'runc');
    work = mkdtempSync(path.join(os.tmpdir(), 'skiff-containerfile-e2e-'));
    registry = await startLocalRegistry();
    [base, builder] = await Promise.all([
      pushNodeBase(registry.host, work),
      pushNodeBuilder(registry.host, work),
    ]);
    podman = createPodman();
    // The engines speak HTTPS unless registries.conf says otherwise (skiff build does HTTP to loopback by itself).
    const registries = path.join(work, 'registries.conf');
    writeFileSync(
      registries,
      `unqualified-search-registries = []\n[[registry]]\nlocation = "${registry.host}"\ninsecure = true\n`,
    );
    // buildah keeps RUN cache mounts (the npm cache) under $TMPDIR/buildah-cache: this run's, not the machine's.
    mkdirSync(path.join(work, 'tmp'));
    env = {
      ...Object.fromEntries(
        Object.entries(podman.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
      ),
      CONTAINERS_REGISTRIES_CONF: registries,
      TMPDIR: path.join(work, 'tmp'),
    };
    tag = `${registry.host}/skiff-containerfile/server:1`;
  });

  after(async () => {
    await podman?.dispose();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('skiff build --engine buildah runs npm ci in the build, pushes, and the config matches skiff build', async (t) => {
    const started = performance.now();
    const result = await runCli(
      ['build', '--engine', 'buildah', '--base', base, '--builder', builder, '--tag', tag, '--push'],
      { cwd: work, env, timeoutMs: ENGINE_BUILD_TIMEOUT_MS },
    );
    assert.equal(result.code, 0, result.stderr.slice(-4000));
    t.diagnostic(`engine build and push: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(result.stdout, `${tag}\n`);
    assert.match(result.stderr, /added \d+ packages/);

    const host = registry?.host ?? '';
    const response = await fetch(`http://${host}/v2/skiff-containerfile/server/manifests/1`, {
      headers: { accept: `${MEDIA_TYPES.ociManifest}, ${MEDIA_TYPES.dockerManifest}` },
    });
    assert.equal(response.status, 200);
    const manifest = (await response.json()) as ImageManifest;
    const configResponse = await fetch(
      `http://${host}/v2/skiff-containerfile/server/blobs/${manifest.config.digest}`,
    );
    const config = (await configResponse.json()) as ImageConfig;
    const run = config.config;
    assert.ok(run);
    assert.equal(run.User, '65532:65532');
    assert.deepEqual(run.Entrypoint, ['node', '/app/dist/src/cli/main.js', 'serve']);
    assert.deepEqual(run.ExposedPorts, { '5000/tcp': {}, '8081/tcp': {} });
    assert.equal(run.Labels?.['org.opencontainers.image.title'], 'skiff');
    assert.ok(run.Env?.includes('NODE_ENV=production'));
    // The allocator settings skiff build gives its images, so both ways give memory back alike.
    for (const setting of MALLOC_ENV) assert.ok(run.Env?.includes(setting), setting);
    const compressed = manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
    t.diagnostic(`pushed: ${manifest.layers.length} layers, ${(compressed / 1e6).toFixed(1)} MB compressed`);
  });

  test('only production dependencies and this platform onnxruntime binaries are in the image', async () => {
    const listing = await podman?.ok([
      'run',
      '--rm',
      '--entrypoint',
      'node',
      tag,
      '-e',
      `const fs = require('node:fs');
       console.log(JSON.stringify({
         modules: fs.readdirSync('/app/node_modules'),
         onnx: fs.readdirSync('/app/node_modules/onnxruntime-node/bin/napi-v6/linux'),
         sources: fs.readdirSync('/app/src', { recursive: true }).filter((f) => f.endsWith('.ts')),
       }))`,
    ]);
    const found = JSON.parse(listing ?? '{}') as { modules: string[]; onnx: string[]; sources: string[] };
    for (const dev of [
      'typescript',
      'eslint',
      'prettier',
      'fast-check',
      'kubernetes-models',
      'playwright-core',
    ])
      assert.ok(!found.modules.includes(dev), dev);
    assert.ok(found.modules.includes('onnxruntime-node'));
    assert.deepEqual(found.onnx, [process.arch]);
    assert.deepEqual(found.sources, []);
  });

  test('podman runs it as non-root with the model mounted: POST /predict says hotdog, podman stop exits 0', async () => {
    assert.ok(podman);
    const port = await freePort();
    const name = 'skiff-containerfile-e2e';
    await podman.ok([
      'run',
      '-d',
      '--name',
      name,
      '-p',
      `127.0.0.1:${port}:5000`,
      '-v',
      `${MODEL}:/models/model.onnx:ro`,
      '-v',
      `${IMAGENET_LABELS()}:/models/labels.txt:ro`,
      tag,
      '--model',
      '/models/model.onnx',
      '--labels',
      '/models/labels.txt',
    ]);
    const url = `http://127.0.0.1:${port}`;
    const engine = podman;
    await waitReady(url, async () => (await engine.run(['logs', name])).stderr);
    await predictsHotdog(url);
    await assertServesAsNonRootAndDrains(podman, name);
  });
});
