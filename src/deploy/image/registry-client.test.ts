import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lookUpCredentials } from './docker-credentials.js';
import { parseChallenge } from './registry-client.js';

test('auth challenges parse for both schemes', () => {
  assert.deepEqual(
    parseChallenge(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull"',
    ),
    {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/node:pull',
      },
    },
  );
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), {
    scheme: 'basic',
    params: { realm: 'Registry Realm' },
  });
  assert.equal(parseChallenge('Negotiate'), undefined);
  assert.equal(parseChallenge(null), undefined);
});

test('credentials come from the auth files docker and podman write', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-auth-'));
  const file = path.join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('hub:s3cr:et').toString('base64') },
        'ghcr.io': { username: 'me', password: 'token' },
      },
    }),
  );
  assert.deepEqual(lookUpCredentials('docker.io', [file]), { username: 'hub', password: 's3cr:et' });
  assert.deepEqual(lookUpCredentials('ghcr.io', [file]), { username: 'me', password: 'token' });
  assert.equal(lookUpCredentials('quay.io', [file]), undefined);
  assert.equal(lookUpCredentials('quay.io', [path.join(dir, 'missing.json')]), undefined);
  rmSync(dir, { recursive: true, force: true });
});
