import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lookUpCredentials } from './docker-credentials.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-auth-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function authFile(name: string, content: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

// A credential helper as docker runs them: `docker-credential-<name> get`, the server on stdin, JSON out;
// "credentials not found" on stdout and exit 1 when it has nothing. It records what it was asked.
const asked = path.join(dir, 'asked.txt');
writeFileSync(
  path.join(dir, 'docker-credential-fake'),
  `#!/bin/sh
[ "$1" = get ] || exit 3
read -r server
printf '%s\\n' "$server" >> '${asked}'
case "$server" in
  ghcr.io) echo '{"ServerURL":"ghcr.io","Username":"helper-user","Secret":"helper-pass"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"<token>","Secret":"refresh-123"}' ;;
  broken.example) echo 'the keychain is locked' >&2; exit 2 ;;
  *) echo 'credentials not found in native keychain'; exit 1 ;;
esac
`,
);
chmodSync(path.join(dir, 'docker-credential-fake'), 0o755);
const env = { PATH: `${dir}${path.delimiter}${process.env.PATH ?? ''}` };

test('credentials come from the auth files docker and podman write', async () => {
  const file = authFile('inline.json', {
    auths: {
      'https://index.docker.io/v1/': { auth: Buffer.from('hub:s3cr:et').toString('base64') },
      'ghcr.io': { username: 'me', password: 'token' },
      'quay.io': { identitytoken: 'refresh-456' },
    },
  });
  assert.deepEqual(await lookUpCredentials('docker.io', [file]), { username: 'hub', password: 's3cr:et' });
  assert.deepEqual(await lookUpCredentials('ghcr.io', [file]), { username: 'me', password: 'token' });
  assert.deepEqual(await lookUpCredentials('quay.io', [file]), { identityToken: 'refresh-456' });
  assert.equal(await lookUpCredentials('gcr.io', [file]), undefined);
  assert.equal(await lookUpCredentials('gcr.io', [path.join(dir, 'missing.json')]), undefined);
});

test('credHelpers and credsStore run docker-credential-<name> get with the host on stdin', async () => {
  const file = authFile('helpers.json', {
    auths: { 'ghcr.io': {}, 'inline.example': { auth: Buffer.from('a:b').toString('base64') } },
    credsStore: 'fake',
    credHelpers: { 'broken.example': 'fake', 'absent.example': 'not-installed' },
  });
  assert.deepEqual(await lookUpCredentials('ghcr.io', [file], env), {
    username: 'helper-user',
    password: 'helper-pass',
  });
  // The "<token>" user name marks an identity token; the Hub is asked for by its legacy URL.
  assert.deepEqual(await lookUpCredentials('docker.io', [file], env), { identityToken: 'refresh-123' });
  assert.deepEqual(await lookUpCredentials('inline.example', [file], env), { username: 'a', password: 'b' });
  assert.equal(await lookUpCredentials('other.example', [file], env), undefined);
  await assert.rejects(lookUpCredentials('broken.example', [file], env), {
    code: 'SKIFF_REGISTRY_AUTH',
    message: /docker-credential-fake get broken\.example exited with 2: the keychain is locked/,
  });
  await assert.rejects(lookUpCredentials('absent.example', [file], env), {
    code: 'SKIFF_REGISTRY_AUTH',
    message: /docker-credential-not-installed is not on PATH/,
  });
  assert.deepEqual(readFileSync(asked, 'utf8').split('\n').slice(0, 3), [
    'ghcr.io',
    'https://index.docker.io/v1/',
    'other.example',
  ]);
});
