// `skiff push` to a registry with Basic auth, the password coming from a Docker credential helper named in
// config.json (credsStore / credHelpers): a small helper executable on a temp PATH, Debian's docker-registry.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobStore } from '../../src/deploy/image/blob-store.js';
import { MEDIA_TYPES, hostPlatform } from '../../src/deploy/image/media-types.js';
import type { ImageConfig, ImageManifest } from '../../src/deploy/image/media-types.js';
import { storeImage, writeOciLayout } from '../../src/deploy/image/oci-layout.js';
import { writeTarLayer } from '../../src/deploy/image/tar-layer.js';
import { startLocalRegistry } from '../helpers/local-registry.js';
import type { LocalRegistry } from '../helpers/local-registry.js';
import { runCli } from '../helpers/run-cli.js';

// bcrypt (cost 4) of PASSWORD, as `htpasswd -B` writes it (the same pair as test/e2e/image.test.ts).
const PASSWORD = 's3cret-pass';
const HTPASSWD = 'skiff:$2b$04$guI/hyX55AmsdNWCgC0xz.HSyFRf0uMHfuudkLP3wvyKZm9J/lXW6';

describe('registry credentials from docker credential helpers', { timeout: 120_000 }, () => {
  let work: string;
  let registry: LocalRegistry | undefined;
  let layout: string;
  let helperPath: string;

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'skiff-credential-helper-'));
    registry = await startLocalRegistry({ htpasswd: HTPASSWD });
    // A one-layer image, enough to push.
    const store = new BlobStore(path.join(work, 'blobs'));
    const hello = Buffer.from('hello\n');
    const layer = await writeTarLayer(
      [{ type: 'file', path: 'hello.txt', mode: 0o644, size: hello.length, source: hello }],
      store,
      { mtimeSeconds: 0 },
    );
    const platform = hostPlatform();
    const config: ImageConfig = {
      architecture: platform.architecture,
      os: platform.os,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    };
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: await store.putBytes(Buffer.from(JSON.stringify(config)), MEDIA_TYPES.ociConfig),
      layers: [layer.descriptor],
    };
    layout = path.join(work, 'image');
    await writeOciLayout(layout, await storeImage(manifest, config, store));

    // Helpers answer per host: the right password for the registry under test from "good", a wrong one from
    // "stale", an identity token from "oauth"; "credentials not found" otherwise, as real helpers do.
    const bin = path.join(work, 'bin');
    mkdirSync(bin);
    const helper = (name: string, username: string, secret: string): void => {
      const file = path.join(bin, `docker-credential-${name}`);
      writeFileSync(
        file,
        `#!/bin/sh
[ "$1" = get ] || exit 3
read -r server
if [ "$server" = '${registry?.host ?? ''}' ]; then
  printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\\n' "$server" '${username}' '${secret}'
else
  echo 'credentials not found in native keychain'; exit 1
fi
`,
      );
      chmodSync(file, 0o755);
    };
    helper('good', 'skiff', PASSWORD);
    helper('stale', 'skiff', 'old-password');
    helper('oauth', '<token>', 'refresh-token');
    helperPath = `${bin}${path.delimiter}${process.env.PATH ?? ''}`;
  });

  after(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const push = (dockerConfig: unknown, repository: string): ReturnType<typeof runCli> => {
    const dir = mkdtempSync(path.join(work, 'docker-'));
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(dockerConfig));
    return runCli(['push', '--from', layout, '--tag', `${registry?.host ?? ''}/${repository}:1`], {
      cwd: work,
      env: { DOCKER_CONFIG: dir, PATH: helperPath },
      timeoutMs: 60_000,
    });
  };

  test('credsStore: the helper gives the password and the push succeeds', async () => {
    const result = await push({ auths: { [registry?.host ?? '']: {} }, credsStore: 'good' }, 'store/app');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /store\/app@sha256:[0-9a-f]{64}\n$/);
  });

  test('credHelpers for the host wins over credsStore; a wrong password is a one-line auth error', async () => {
    const good = await push(
      { credsStore: 'stale', credHelpers: { [registry?.host ?? '']: 'good' } },
      'helpers/app',
    );
    assert.equal(good.code, 0, good.stderr);
    const stale = await push({ credHelpers: { [registry?.host ?? '']: 'stale' } }, 'helpers/app');
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /^skiff: error: .*HTTP 401.*\[SKIFF_REGISTRY_AUTH\]\n$/);
  });

  test('an identity token cannot answer a Basic challenge; a missing helper is named', async () => {
    const token = await push({ credsStore: 'oauth' }, 'token/app');
    assert.equal(token.code, 1);
    assert.match(
      token.stderr,
      /^skiff: error: .* wants a user name and password, but the stored login is an identity token.*\[SKIFF_REGISTRY_AUTH\]\n$/,
    );
    const missing = await push({ credsStore: 'osxkeychain' }, 'missing/app');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /docker-credential-osxkeychain is not on PATH.*\[SKIFF_REGISTRY_AUTH\]\n$/);
  });
});
