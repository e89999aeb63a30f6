// `skiff build` and `skiff push` against real components: Debian's docker-registry on 127.0.0.1, a base
// image made of this machine's node, skopeo to check what we push, and podman (runc) to run the result.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { BlobStore } from '../../src/deploy/image/blob-store.js';
import { MALLOC_ENV } from '../../src/deploy/image/build-image.js';
import { MEDIA_TYPES, hostPlatform } from '../../src/deploy/image/media-types.js';
import { RegistryClient } from '../../src/deploy/image/registry-client.js';
import type { Descriptor, ImageConfig, ImageManifest } from '../../src/deploy/image/media-types.js';
import { parseImageReference } from '../../src/deploy/image/image-reference.js';
import { freePort, requireCommands, startLocalRegistry } from '../helpers/local-registry.js';
import type { LocalRegistry } from '../helpers/local-registry.js';
import { pushNodeBase } from '../helpers/node-base-image.js';
import { IMAGENET_LABELS, defaultModel, repoRoot } from '../helpers/paths.js';
import { createPodman, runCommand } from '../helpers/podman.js';
import type { Podman } from '../helpers/podman.js';
import { runCli } from '../helpers/run-cli.js';
import { assertServesAsNonRootAndDrains, predictsHotdog, waitReady } from '../helpers/container-checks.js';

// The committed default model, baked with the model.json beside it.
const MODEL = defaultModel();
const BUILD_TIMEOUT_MS = 120_000;

describe('skiff build / push: help and one-line errors', () => {
  test('the command list and --help name the new commands and their options', async () => {
    const usage = await runCli(['--help']);
    assert.match(usage.stdout, /^ {2}build /m);
    assert.match(usage.stdout, /^ {2}push /m);
    assert.match(usage.stdout, /^ {2}run-image /m);
    const help = await runCli(['build', '--help']);
    assert.equal(help.code, 0);
    for (const flag of [
      '--base',
      '--tag',
      '--model',
      '--output',
      '--push',
      '--engine',
      'SKIFF_REGISTRY_PASSWORD',
    ])
      assert.ok(help.stdout.includes(flag), flag);
  });

  test('push without --tag, and an unreachable registry, are one line and exit 1', async () => {
    const noTag = await runCli(['push', '--from', '/nonexistent']);
    assert.equal(noTag.code, 1);
    assert.match(noTag.stderr, /^skiff: error: option --tag: Required \[SKIFF_CONFIG_INVALID\]\n$/);
    const typo = await runCli(['build', '--model', 'mobilenetv', '--base', 'scratch']);
    assert.equal(typo.code, 1);
    assert.match(
      typo.stderr,
      /^skiff: error: --model mobilenetv: no such file.*mobilenetv2.*\[SKIFF_MODEL_FILE_MISSING\]\n$/,
    );
    const builderAlone = await runCli(['build', '--builder', 'node:20', '--base', 'scratch']);
    assert.equal(builderAlone.code, 1);
    assert.match(
      builderAlone.stderr,
      /^skiff: error: --builder .* needs --engine .*\[SKIFF_CONFIG_INVALID\]\n$/,
    );
    const badModel = await runCli(['run-image', '--model', 'mobilenetv', '--engine', 'podman']);
    assert.equal(badModel.code, 1);
    assert.match(
      badModel.stderr,
      /^skiff: error: --model mobilenetv: no such file.*\[SKIFF_MODEL_FILE_MISSING\]\n$/,
    );
    const port = await freePort();
    const unreachable = await runCli([
      'build',
      '--base',
      `127.0.0.1:${port}/none:1`,
      '--output',
      os.tmpdir(),
    ]);
    assert.equal(unreachable.code, 1);
    assert.match(
      unreachable.stderr,
      /^skiff: error: GET http:\/\/127\.0\.0\.1:\d+\/v2\/none\/manifests\/1: .*\[SKIFF_REGISTRY_FAILED\]\n$/,
    );
  });
});

describe('skiff build / push / run with podman', { timeout: 600_000 }, () => {
  let work: string;
  let registry: LocalRegistry | undefined;
  let podman: Podman | undefined;
  let base: string;
  let appDir: string;
  let tag: string;
  let digest: string;

  before(async () => {
    requireCommands('docker-registry', 'podman', 'skopeo', 'runc');
    work = mkdtempSync(path.join(os.tmpdir(), 'skiff-image-e2e-'));
    registry = await startLocalRegistry();
    base = await pushNodeBase(registry.host, work);
    // A snapshot of the built app, so a concurrent `tsc` in the checkout cannot change the input between builds.
    appDir = path.join(work, 'app');
    mkdirSync(appDir);
    cpSync(path.join(repoRoot(), 'dist', 'src'), path.join(appDir, 'dist', 'src'), { recursive: true });
    cpSync(path.join(repoRoot(), 'models'), path.join(appDir, 'models'), { recursive: true });
    cpSync(path.join(repoRoot(), 'src'), path.join(appDir, 'src'), { recursive: true });
    for (const file of ['package.json', 'package-lock.json'])
      copyFileSync(path.join(repoRoot(), file), path.join(appDir, file));
    symlinkSync(path.join(repoRoot(), 'node_modules'), path.join(appDir, 'node_modules'));
    tag = `${registry.host}/skiff-e2e/mobilenet:1`;
  });

  after(async () => {
    await podman?.dispose();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const build = (cacheDir: string, extra: readonly string[] = []): ReturnType<typeof runCli> =>
    runCli(
      [
        'build',
        '--base',
        base,
        '--tag',
        tag,
        '--model',
        MODEL,
        '--labels',
        IMAGENET_LABELS(),
        '--cache-dir',
        cacheDir,
        '--app-dir',
        appDir,
        ...extra,
      ],
      { cwd: work, timeoutMs: BUILD_TIMEOUT_MS },
    );

  test('build pulls the base from the registry, pushes, and the manifest reads back over /v2/', async () => {
    const result = await build(path.join(work, 'cache-a'), [
      '--push',
      '--output',
      path.join(work, 'image.tar'),
    ]);
    assert.equal(result.code, 0, result.stderr);
    const printed = /@(sha256:[0-9a-f]{64})$/m.exec(result.stdout)?.[1];
    assert.ok(printed, result.stdout);
    digest = printed;
    assert.match(result.stderr, /pushed .* 4 blobs uploaded .* 1 mounted/);

    const response = await fetch(`http://${registry?.host ?? ''}/v2/skiff-e2e/mobilenet/manifests/1`, {
      headers: { accept: MEDIA_TYPES.ociManifest },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('docker-content-digest'), digest);
    const manifest = (await response.json()) as ImageManifest;
    assert.equal(manifest.mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(manifest.layers.length, 4, 'node base + node_modules + app + model');
    for (const layer of manifest.layers) assert.equal(layer.mediaType, MEDIA_TYPES.ociLayerGzip);
    assert.equal(manifest.annotations?.['org.opencontainers.image.base.name'], base);

    const configResponse = await fetch(
      `http://${registry?.host ?? ''}/v2/skiff-e2e/mobilenet/blobs/${manifest.config.digest}`,
    );
    const config = (await configResponse.json()) as ImageConfig;
    const run = config.config;
    assert.ok(run);
    assert.equal(run.User, '65532:65532');
    assert.deepEqual(run.Entrypoint, ['node', '/app/dist/src/cli/main.js', 'serve']);
    assert.deepEqual(run.ExposedPorts, { '5000/tcp': {}, '8081/tcp': {} });
    assert.equal(run.Labels?.['org.opencontainers.image.title'], 'skiff');
    assert.ok(run.Env?.includes('SKIFF_MODEL=/app/model/model.onnx'));
    for (const setting of MALLOC_ENV) assert.ok(run.Env?.includes(setting), setting);
    assert.equal(config.rootfs.diff_ids.length, 4);
  });

  test('the same input builds the same digest: from the cache, and from an empty cache', async () => {
    const cached = await build(path.join(work, 'cache-a'));
    assert.equal(cached.code, 0, cached.stderr);
    assert.match(
      cached.stderr,
      /node_modules [\d.]+ MB \(cached\), app [\d.]+ MB \(cached\), model [\d.]+ MB \(cached\)/,
    );
    assert.match(cached.stdout, new RegExp(`@${digest}$`, 'm'));
    const fresh = await build(path.join(work, 'cache-b'));
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.doesNotMatch(fresh.stderr, /\(cached\)/);
    assert.match(fresh.stdout, new RegExp(`@${digest}$`, 'm'));
  });

  test('a Docker-format base (schema 2) is pulled and its layers are re-labelled with OCI media types', async () => {
    const host = registry?.host ?? '';
    const copied = await runCommand(
      'skopeo',
      [
        'copy',
        '--format',
        'v2s2',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        `docker://${base}`,
        `docker://${host}/node-base-docker:20`,
      ],
      process.env,
    );
    assert.equal(copied.code, 0, copied.stderr);
    const result = await runCli(
      [
        'build',
        '--base',
        `${host}/node-base-docker:20`,
        '--tag',
        `${host}/skiff-e2e/docker-base:1`,
        '--cache-dir',
        path.join(work, 'cache-a'),
        '--app-dir',
        appDir,
        '--push',
      ],
      { cwd: work, timeoutMs: BUILD_TIMEOUT_MS },
    );
    assert.equal(result.code, 0, result.stderr);
    const response = await fetch(`http://${host}/v2/skiff-e2e/docker-base/manifests/1`, {
      headers: { accept: MEDIA_TYPES.ociManifest },
    });
    const manifest = (await response.json()) as ImageManifest;
    assert.equal(manifest.layers.length, 3, 'base + node_modules + app');
    for (const layer of manifest.layers) assert.equal(layer.mediaType, MEDIA_TYPES.ociLayerGzip);
    const inspected = await runCommand(
      'skopeo',
      ['inspect', '--tls-verify=false', `docker://${host}/skiff-e2e/docker-base:1`],
      process.env,
    );
    assert.equal(inspected.code, 0, inspected.stderr);
  });

  test("a multi-platform base (an image index) resolves to this machine's platform", async () => {
    const host = registry?.host ?? '';
    const client = new RegistryClient();
    const single = await client.getManifest(parseImageReference(base));
    const entry = (architecture: string): Descriptor => ({
      mediaType: MEDIA_TYPES.ociManifest,
      digest: single.digest,
      size: single.bytes.length,
      platform: { os: 'linux', architecture },
    });
    const others = ['amd64', 'arm64', 's390x'].filter((a) => a !== hostPlatform().architecture);
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [entry(others[0] ?? 's390x'), entry(hostPlatform().architecture)],
    };
    await client.putManifest(
      host,
      'node-base',
      'multi',
      Buffer.from(JSON.stringify(index)),
      MEDIA_TYPES.ociIndex,
    );
    const result = await runCli(
      [
        'build',
        '--base',
        `${host}/node-base:multi`,
        '--cache-dir',
        path.join(work, 'cache-a'),
        '--app-dir',
        appDir,
        '--output',
        path.join(work, 'multi'),
      ],
      { cwd: work, timeoutMs: BUILD_TIMEOUT_MS },
    );
    assert.equal(result.code, 0, result.stderr);
    const wrong = await runCli(
      [
        'build',
        '--base',
        `${host}/node-base:multi`,
        '--platform',
        'linux/riscv64',
        '--cache-dir',
        path.join(work, 'cache-a'),
        '--app-dir',
        appDir,
      ],
      { cwd: work, timeoutMs: BUILD_TIMEOUT_MS },
    );
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /has no linux\/riscv64 image \(it has linux\/.*\) \[SKIFF_IMAGE_NOT_FOUND\]/);
  });

  test('skopeo accepts what was pushed and what was written', async () => {
    const remote = await runCommand(
      'skopeo',
      ['inspect', '--tls-verify=false', `docker://${tag}`],
      process.env,
    );
    assert.equal(remote.code, 0, remote.stderr);
    const inspected = JSON.parse(remote.stdout) as { Digest: string; Architecture: string; Layers: string[] };
    assert.equal(inspected.Digest, digest);
    assert.equal(inspected.Layers.length, 4);
    const archive = await runCommand(
      'skopeo',
      ['inspect', `oci-archive:${path.join(work, 'image.tar')}`],
      process.env,
    );
    assert.equal(archive.code, 0, archive.stderr);
    assert.equal((JSON.parse(archive.stdout) as { Digest: string }).Digest, digest);
  });

  test('skiff push of the tar to another repository mounts or skips every blob', async () => {
    const result = await runCli(
      ['push', '--from', path.join(work, 'image.tar'), '--tag', `${registry?.host ?? ''}/other/mobilenet:2`],
      { cwd: work, timeoutMs: BUILD_TIMEOUT_MS },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, / 0 blobs uploaded \(0\.0 MB\), 5 mounted/);
    assert.match(result.stdout, new RegExp(`other/mobilenet@${digest}$`, 'm'));
  });

  test('large blobs go up in PATCH chunks and come back verified', async () => {
    const store = new BlobStore(path.join(work, 'chunks'));
    const blob = await store.putBytes(randomBytes(2_500_000), 'application/octet-stream');
    const client = new RegistryClient({ chunkBytes: 1024 * 1024 });
    const host = registry?.host ?? '';
    assert.equal(await client.pushBlob(host, 'chunks/test', blob, store), 'uploaded');
    assert.equal(await client.pushBlob(host, 'chunks/test', blob, store), 'present');
    const back = new BlobStore(path.join(work, 'chunks-back'));
    await client.fetchBlob(host, 'chunks/test', blob, back);
    await back.verify(blob);
    await assert.rejects(
      client.fetchBlob(host, 'chunks/test', { ...blob, digest: `sha256:${'0'.repeat(64)}` }, back),
      /HTTP 404/,
    );
  });

  test('a registry with Basic auth: credentials from the docker config file or flags, a clear error without', async () => {
    // bcrypt (cost 4) of PASSWORD, as `htpasswd -B` writes it.
    const PASSWORD = 's3cret-pass';
    const secured = await startLocalRegistry({
      htpasswd: 'skiff:$2b$04$guI/hyX55AmsdNWCgC0xz.HSyFRf0uMHfuudkLP3wvyKZm9J/lXW6',
    });
    try {
      const push = (env: Record<string, string>, extra: readonly string[] = []): ReturnType<typeof runCli> =>
        runCli(
          ['push', '--from', path.join(work, 'image.tar'), '--tag', `${secured.host}/auth/app:1`, ...extra],
          {
            cwd: work,
            env,
            timeoutMs: BUILD_TIMEOUT_MS,
          },
        );
      const noAuth = mkdtempSync(path.join(work, 'docker-none-'));
      const refused = await push({ DOCKER_CONFIG: noAuth });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^skiff: error: .*docker login.*\[SKIFF_REGISTRY_AUTH\]\n$/);

      const dockerDir = mkdtempSync(path.join(work, 'docker-'));
      writeFileSync(
        path.join(dockerDir, 'config.json'),
        JSON.stringify({
          auths: { [secured.host]: { auth: Buffer.from(`skiff:${PASSWORD}`).toString('base64') } },
        }),
      );
      const fromFile = await push({ DOCKER_CONFIG: dockerDir });
      assert.equal(fromFile.code, 0, fromFile.stderr);
      assert.match(fromFile.stdout, new RegExp(`auth/app@${digest}$`, 'm'));

      const wrong = await push({ DOCKER_CONFIG: noAuth }, [
        '--registry-username',
        'skiff',
        '--registry-password',
        'nope',
      ]);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /\[SKIFF_REGISTRY_AUTH\]/);
      const fromFlags = await push({ DOCKER_CONFIG: noAuth, SKIFF_REGISTRY_PASSWORD: PASSWORD }, [
        '--registry-username',
        'skiff',
      ]);
      assert.equal(fromFlags.code, 0, fromFlags.stderr);
      assert.match(fromFlags.stderr, / 0 blobs uploaded .* 5 already there/);
    } finally {
      await secured.stop();
    }
  });

  test('podman runs it as non-root: POST /predict says hotdog, podman stop exits 0', async () => {
    podman = createPodman();
    await podman.ok(['pull', '--tls-verify=false', tag], BUILD_TIMEOUT_MS);
    const port = await freePort();
    const name = 'skiff-e2e';
    await podman.ok(['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:5000`, tag]);
    const url = `http://127.0.0.1:${port}`;
    const engine = podman;
    await waitReady(url, async () => (await engine.run(['logs', name])).stderr);
    await predictsHotdog(url);
    // The libjpeg addon travels with the app layer, its libjpeg beside it: the base (node and the libraries node
    // links) has no libjpeg of its own, and the server would say so if the addon did not load.
    const logs = await engine.run(['logs', name]);
    assert.doesNotMatch(logs.stdout + logs.stderr, /decoded by libvips/);
    await assertServesAsNonRootAndDrains(podman, name);
    const loaded = await podman.ok(['load', '-i', path.join(work, 'image.tar')]);
    assert.match(loaded, new RegExp(`Loaded image.*${tag.replace(/[.]/g, '\\.')}`));
  });
});
