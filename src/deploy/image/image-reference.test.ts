import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiHost, formatImageReference, isLoopback, parseImageReference } from './image-reference.js';

test('references parse the way docker reads them', () => {
  assert.deepEqual(parseImageReference('node:20-slim'), {
    registry: 'docker.io',
    repository: 'library/node',
    tag: '20-slim',
  });
  assert.deepEqual(parseImageReference('127.0.0.1:5000/skiff/dogs'), {
    registry: '127.0.0.1:5000',
    repository: 'skiff/dogs',
    tag: 'latest',
  });
  assert.deepEqual(parseImageReference('localhost/dogs:1.0'), {
    registry: 'localhost',
    repository: 'dogs',
    tag: '1.0',
  });
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(parseImageReference(`ghcr.io/org/app@${digest}`), {
    registry: 'ghcr.io',
    repository: 'org/app',
    digest,
  });
  assert.equal(formatImageReference(parseImageReference('team/app:2')), 'docker.io/team/app:2');
});

test('bad references are refused with the reason', () => {
  assert.throws(() => parseImageReference('Upper/Case'), /lower-case/);
  assert.throws(() => parseImageReference('app@sha256:123'), /64 hex/);
  assert.throws(() => parseImageReference('app:bad tag'), /bad tag/);
});

test('only loopback registries get plain HTTP by default; Docker Hub has its own API host', () => {
  assert.ok(isLoopback('127.0.0.1:5000'));
  assert.ok(isLoopback('localhost:5000'));
  assert.ok(isLoopback('[::1]:5000'));
  assert.ok(!isLoopback('registry.example.com'));
  assert.ok(!isLoopback('127.0.0.1.example.com'));
  assert.equal(apiHost('docker.io'), 'registry-1.docker.io');
  assert.equal(apiHost('ghcr.io'), 'ghcr.io');
});
